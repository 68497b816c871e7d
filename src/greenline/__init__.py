"""Greenline: multi-tenant WhatsApp marketing and CRM."""

__version__ = "0.1.0"
