"""The JSON API (/api/v1/): DRF views over the same domain functions as the COS, API 3.0 and console edges."""
