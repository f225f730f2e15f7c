"""Services for one session: the record and the rules combined; listeners told what changed."""
