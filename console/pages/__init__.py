"""Browser console pages: each calls the same domain functions as the COS, API 3.0 and JSON APIs."""
