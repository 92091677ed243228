"""`make fuzz-deep`: schemathesis against a really served instance, every phase and check.

`python -m fuzz` starts PostgreSQL (embedded unless DATABASE_URL names a throwaway database),
migrates it, makes an organisation with an administrator, serves the API with `crmapi serve`
(Valkey embedded unless REDIS_URL is set) and runs `schemathesis run` against it for
FUZZ_MINUTES (default 15): examples, coverage, fuzzing and stateful phases (links from the
contract, and those schemathesis infers), all checks. It writes schemathesis's reports and a
summary of the failures by check and operation to FUZZ_REPORT (default fuzz/report).
"""
