# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0001: the harness itself - start/graceful/stop and the error log policy.

These run against the module under test too (it is loaded), but configure
no managed domain, so they check the test machinery rather than ACME.
"""
import pytest

from mdtest.apache import ApacheError


def test_0001_graceful_serves_next_generation(apache):
    """start() returns when the server answers; graceful() when a child of
    the next configuration generation does; stop() frees the ports."""
    apache.start()
    first = apache.config_generation()
    assert first is not None
    apache.graceful()
    assert apache.config_generation() > first
    apache.stop()
    assert not apache.running()


def test_0002_broken_config_fails_start(apache):
    """A configuration error makes configtest() and start() fail loudly."""
    apache.add("MDNoSuchDirectiveAnywhere on")
    rc, out = apache.configtest()
    assert rc != 0, out
    with pytest.raises(ApacheError):
        apache.start()


def test_0003_log_check_finds_warnings(apache):
    """A [warn] line that the test did not declare is reported; one that it
    declared with expect_log() is not."""
    apache.add("""
        <VirtualHost *:%d>
            ServerName nowhere.test
            DocumentRoot "/nonexistent-mdtest-docroot"
        </VirtualHost>
    """ % apache.http_port)
    apache.start()
    problems = apache.check_log()
    assert any("AH00112" in p for p in problems), problems
    apache.expect_log(r"AH00112: Warning: DocumentRoot \[/nonexistent-mdtest-docroot\]",
                      required=True)
    apache.graceful()
    assert apache.check_log() == []


def test_0004_broken_graceful_keeps_serving(apache):
    """A graceful restart into a broken configuration fails loudly, the old
    generation keeps serving, and stop() still works with the broken
    configuration on disk."""
    apache.start()
    generation = apache.config_generation()
    apache.add("MDNoSuchDirectiveAnywhere on")
    with pytest.raises(ApacheError):
        apache.graceful()
    assert apache.running()
    assert apache.config_generation() == generation
    apache.stop()
    assert not apache.running()
