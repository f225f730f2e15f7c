"""Pure clinical rules: plain data in, plain data out. No Qt, no SQL."""
