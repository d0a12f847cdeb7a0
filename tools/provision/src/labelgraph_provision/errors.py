class ProvisionError(Exception):
    """A resource could not be provisioned; the message says which and why."""
