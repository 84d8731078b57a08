# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""pytest fixtures for the mod_md integration tests.

Session-wide (started once per run):
    env           MdTestEnv: run_dir, http_port/https_port/ctrl_port, md_module,
                  certs (CA for Pebble's HTTPS), pebble, challtestsrv
    pebble        the shared Pebble (validation on, PEBBLE_VA_NOSLEEP=1); a
                  test that restarts it with other settings gets it reset
                  to the defaults afterwards
    challtestsrv  the DNS server Pebble resolves through (set_txt, clear_txt, add_a)

Per test:
    domain          a name unique to the test, "<test-name>.test"
    apache          an Apache (not started) configured for `pebble`;
                    stopped after the test, and its error log checked
    apache_factory  apache_factory(suffix, ca=<Pebble>, ...) for more servers
    pebble_factory  pebble_factory(env={...}, config={...}) -> another Pebble,
                    stopped after the test

After each test every Apache's error log (and the output of the apache2
commands) must hold no [warn]/[error]/[crit]/[alert]/[emerg] line except
those allowed by mdtest.apache.DEFAULT_LOG_ALLOWLIST or declared by the
test with apache.expect_log(regex).  When a test fails, the Apache error
logs and the Pebble and challtestsrv output of that test are attached to
the report.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mdtest.env import MdTestEnv, dns_label  # noqa: E402

_ENV = None
_KEEP = os.environ.get("MDTEST_KEEP", "") not in ("", "0")


@pytest.fixture(scope="session")
def env(request):
    global _ENV
    e = MdTestEnv()
    _ENV = e
    e.start()
    yield e
    e.stop()
    _ENV = None
    if request.session.testsfailed or _KEEP:
        print(f"\nmdtest: run directory kept: {e.run_dir}")
    else:
        e.cleanup()


@pytest.fixture(scope="session")
def pebble(env):
    return env.pebble


@pytest.fixture(scope="session")
def challtestsrv(env):
    return env.challtestsrv


@pytest.fixture(autouse=True)
def _mdtest_per_test(env, request):
    """Mark the shared logs at test start; reset the shared Pebble after."""
    env.pebble.tail.mark()
    env.challtestsrv.proc.tail.mark()
    request.node._mdtest_apaches = []
    request.node._mdtest_pebbles = []
    yield
    if not env.pebble.has_defaults():
        env.pebble.reset()


@pytest.fixture
def domain(request):
    name = request.node.name
    if name.startswith("test_"):
        name = name[5:]
    return dns_label(name) + ".test"


def _finish_apache(a):
    """Stop an Apache after its test; fail on bad log lines written meanwhile."""
    problems = []
    try:
        a.stop()
    finally:
        problems = a.check_log()
    if problems:
        pytest.fail(f"{a.name}: unexpected lines in the error log while stopping:\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture
def apache_factory(env, request):
    made = []

    def make(suffix="", **kw):
        name = dns_label(request.node.name, 60) + (f"-{suffix}" if suffix else "")
        a = env.new_apache(name, **kw)
        made.append(a)
        request.node._mdtest_apaches.append(a)
        return a
    yield make
    errors = []
    for a in reversed(made):
        try:
            _finish_apache(a)
        except BaseException as e:  # pytest.fail raises an OutcomeException
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def apache(apache_factory):
    return apache_factory()


@pytest.fixture
def pebble_factory(env, request):
    made = []

    def make(env_vars=None, config=None, name=None, dns_port=None):
        p = env.new_pebble(name or f"pebble-{dns_label(request.node.name)}-{len(made)}",
                           env=env_vars, config=config, dns_port=dns_port)
        made.append(p)
        request.node._mdtest_pebbles.append(p)
        return p
    yield make
    for p in made:
        p.stop()
        env.extra_pebbles.remove(p)


@pytest.fixture
def acmeproxy_factory(env):
    """acmeproxy_factory(upstream=<Pebble>) -> a started AcmeProxy in front of it
    (mdtest/acmeproxy.py: ARI, profiles, Retry-After and scripted faults)."""
    from mdtest.acmeproxy import AcmeProxy
    made = []

    def make(upstream=None):
        p = AcmeProxy(upstream or env.pebble, env.certs).start()
        made.append(p)
        return p
    yield make
    for p in made:
        p.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    apaches = getattr(item, "_mdtest_apaches", [])
    # A test that passed still fails on unexpected warnings/errors in the log.
    if rep.when == "call" and rep.passed:
        problems = []
        for a in apaches:
            problems += [f"{a.name}: {p}" for p in a.check_log(final=True)]
        if problems:
            rep.outcome = "failed"
            rep.longrepr = ("unexpected [warn]/[error]/... lines in the Apache error log "
                            "(declare expected ones with apache.expect_log(regex)):\n"
                            + "\n".join(problems))
    if rep.failed and _ENV is not None:
        for a in apaches:
            rep.sections.append((f"apache {a.name} error_log ({a.error_log})", a.log_tail(200_000)))
            if os.path.exists(a.ctl_log):
                with open(a.ctl_log) as f:
                    rep.sections.append((f"apache {a.name} apache2 commands", f.read()[-20_000:]))
        rep.sections.append(("pebble output (this test)", _ENV.pebble.tail.since_mark()))
        for p in getattr(item, "_mdtest_pebbles", []):
            rep.sections.append((f"{p.name} output", p.log_text()[-100_000:]))
        rep.sections.append(("challtestsrv output (this test)",
                             _ENV.challtestsrv.proc.tail.since_mark()))


# ---- a farm's parts (test_055x..059x): mdtest/farm.py ----------------------------------
# Tests name `etcd` (or `cluster`) before `apache_factory`: fixtures end in the reverse
# order, so the nodes stop before their engine does (a node looking at a stopped engine
# logs MD1765, an error).

@pytest.fixture
def etcd(env, request):
    from mdtest.farm import Etcd
    e = Etcd(env.run_dir, f"etcd-{os.getpid()}-{request.node.name[:30]}").start()
    yield e
    e.stop()


@pytest.fixture
def cluster(env, request):
    """Three etcd members (mdtest.farm.EtcdCluster)."""
    from mdtest.farm import EtcdCluster
    c = EtcdCluster(env.run_dir, f"ec-{os.getpid()}-{request.node.name[5:30]}").start()
    yield c
    c.stop()


@pytest.fixture
def farm_key(env):
    """A farm key file as docs/farm.md makes one: 64 hex digits, 0600."""
    import secrets
    path = os.path.join(env.run_dir, f"farm-{secrets.token_hex(4)}.key")
    with open(path, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def balancer(env, request):
    """balancer(nodes): haproxy round robin over the nodes' http ports, on the port the
    shared Pebble validates http-01 against."""
    from mdtest.farm import HAProxy
    made = []

    def make(nodes):
        lb = HAProxy(env.run_dir, f"lb-{request.node.name[:30]}", env.http_port,
                     [n.http_port for n in nodes]).start()
        made.append(lb)
        return lb
    yield make
    for lb in made:
        lb.stop()
