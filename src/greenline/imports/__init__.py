"""Bulk contact import: CSV/XLSX upload, detection, mapping, background job, error report."""
