"""Tenant (outbound) webhooks: endpoints, signed event deliveries, retries and the delivery log."""
