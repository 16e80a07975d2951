"""Training tests run single-threaded: small tensors gain nothing from more threads, and on a
shared machine OpenMP threads that wait for each other make them many times slower."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
