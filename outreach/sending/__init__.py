"""Sending: the scheduler's batch, warm-up, inbox rotation, windows and the send itself.

Entry points: `services.message_send`, `batch.send_batch_run`, `sweeper.stuck_work_sweep`.
"""
