"""InFlight: a worker is idle only when nothing runs and nothing waits in its local queue."""

from types import SimpleNamespace

import dramatiq

from jengu.bus.in_flight import InFlight


def test_idle_waits_for_running_messages_and_the_workers_local_queue():
    in_flight = InFlight()
    worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=1)  # never started
    in_flight.add_worker(worker)
    message = SimpleNamespace(message_id="m1")

    in_flight.begin(message)
    assert not in_flight.idle()  # running
    assert in_flight.end(message) is not None
    worker.work_queue.put((0, "prefetched"))
    assert not in_flight.idle()  # fetched, waiting for a thread
    worker.work_queue.get_nowait()
    assert in_flight.idle()
    assert in_flight.end(message) is None  # already forgotten
