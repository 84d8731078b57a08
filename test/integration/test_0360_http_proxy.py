# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""0360: MDHttpProxy (and MDHttpProxyCACertificateFile for an HTTPS proxy):
all ACME traffic goes through the proxy (ours: mdtest/forwardproxy.py, a
CONNECT-only forward proxy) to Pebble."""
import pytest

from mdtest.forwardproxy import ForwardProxy


@pytest.mark.parametrize("https_proxy", [False, True], ids=["http-proxy", "https-proxy"])
def test_0360_via_proxy(apache, env, pebble, domain, https_proxy):
    proxy = ForwardProxy(env.certs if https_proxy else None).start()
    try:
        extra = f'MDHttpProxyCACertificateFile "{env.certs["ca"]}"' if https_proxy else ""
        apache.add(f"""
            MDHttpProxy {proxy.url}
            {extra}
            MDomain {domain}
            MDCAChallenges http-01
        """)
        apache.add_vhost(domain)
        apache.start()
        apache.wait_for_cert(domain, timeout=60)
        assert f"127.0.0.1:{pebble.port}" in proxy.connects, proxy.connects
    finally:
        proxy.stop()


def test_0361_proxy_down(apache, domain):
    """A proxy that does not answer: the renewal fails and says so."""
    proxy = ForwardProxy()          # never started: nothing listens on its port
    apache.add(f"""
        MDHttpProxy {proxy.url}
        MDomain {domain}
        MDCAChallenges http-01
    """)
    apache.add_vhost(domain)
    apache.expect_log(rf"MD1102: {domain}: renewal failed", required=True)
    apache.start()
    apache.wait_for_log(rf"MD1102: {domain}: renewal failed.*no answer from the CA")
