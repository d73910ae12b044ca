"""Websites (the tenants) as their owners manage them, and the demo website."""
