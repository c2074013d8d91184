"""Provider adapters: the only modules that speak a vendor's wire format or import litellm."""
