"""Protocol-faithful fakes of outside services: local HTTP servers speaking their wire format."""
