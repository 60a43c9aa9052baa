"""The bottom floor: helpers every app may use; imports no app."""
