"""The one compiled part: the audit verifier's batch hasher (app/services/_chain_digests.c).

Everything else is declared in pyproject.toml. The extension is optional: without a C compiler
and OpenSSL's headers the install still succeeds and the verifier hashes in Python, only
slower (the test suite insists on it, so CI always has it)."""
from setuptools import Extension, setup

setup(ext_modules=[
    Extension("app.services._chain_digests", ["app/services/_chain_digests.c"],
              libraries=["crypto"], optional=True),
])
