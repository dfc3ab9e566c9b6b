"""Edge (CDN/WAF) knowledge: the shipped vendor signatures and address ranges, and their refresh."""
