"""Every module that declares job kinds, imported once so that the registry knows them
wherever a job is queued or run."""

from portal.exports import jobs as export_jobs
from portal.jobs import scheduled_work

KIND_MODULES = (export_jobs, scheduled_work)
