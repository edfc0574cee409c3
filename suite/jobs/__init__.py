"""Long work off the Streamlit script thread.

`JobService` (the app's job system) runs each long action in a worker process, keeps its state in the
workspace so any session can watch or stop it, and caps how many run at once. `BackgroundJob` is the
older in-session thread, kept for the pages not yet moved onto the service.
"""

from __future__ import annotations

from suite.jobs.background import BackgroundJob, JobSnapshot
from suite.jobs.records import JobNotFoundError, JobRecord, JobStore
from suite.jobs.service import JobHandle, JobService, JobView, get_job_service

__all__ = [
    "BackgroundJob",
    "JobHandle",
    "JobNotFoundError",
    "JobRecord",
    "JobService",
    "JobSnapshot",
    "JobStore",
    "JobView",
    "get_job_service",
]
