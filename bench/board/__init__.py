"""`make bench-board` (issue 7): the lead board over 10,000 leads under wrk, as an administrator
who sees them all and as a sales rep who sees 2 %, p95 against the 50 ms target.
`make bench-dashboard` (issue 9): the service request dashboard over 10,000 requests, the same way."""
