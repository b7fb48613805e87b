#!/usr/bin/env python3
"""A local stand-in for Intel PCS / PCCS v4 and AMD KDS, for tests without internet.

Serves a recorded collateral bundle (tests/data/tdx/collateral/<name>: the real Intel-signed
responses) on the real URL shapes, with the issuer chains URL-encoded in the real headers:

  GET /tdx/certification/v4/tcb?fmspc=HEX[&update=...]   TCB-Info-Issuer-Chain
      (update=early: the bundle's tcb_info_early_response.json; 404 when it has none)
  GET /tdx/certification/v4/qe/identity                  SGX-Enclave-Identity-Issuer-Chain
  GET /sgx/certification/v4/pckcrl?ca=platform&encoding=der   SGX-PCK-CRL-Issuer-Chain
  GET /sgx/certification/v4/rootcacrl                    (hex text, as PCCS answers)

With --kds INDEX (tests/data/sevsnp/kds/index.json) it also serves AMD KDS paths from the real
recorded VCEKs and cert_chains the index names (files relative to the index), by exact path and
query:

  GET /vcek/v1/{Milan|Genoa|Turin}/{hwid}?[fmcSPL=&]blSPL=&teeSPL=&snpSPL=&ucodeSPL=   DER
  GET /{vcek|vlek}/v1/{product}/cert_chain                                          PEM
  GET /{vcek|vlek}/v1/{product}/crl                                                 DER
Anything the index does not name is 404 (as KDS answers an unknown chip or TCB).

Test controls (not part of the PCS API):
  GET /_stats                      {"<path>": count, ...} of the API requests answered (the
                                   early channel counts as "<path>?update=early")
  GET /_fault?kind=K[&path=P][&times=N][&retry_after=S][&seconds=S]
      kind: 404 | 429 | 500 | 503 | slow | truncated | wrong_chain | none
      path: only requests whose path starts with P (default: every API path)
      times: only the next N matching requests (default: until changed)

Prints "PORT <n>" on stdout once listening (--port 0 picks a free port).
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = {
    "/tdx/certification/v4/tcb": ("tcb_info_response.json", "TCB-Info-Issuer-Chain",
                                  "tcb_info_issuer_chain.pem", "application/json"),
    "/tdx/certification/v4/qe/identity": ("qe_identity_response.json",
                                          "SGX-Enclave-Identity-Issuer-Chain",
                                          "qe_identity_issuer_chain.pem", "application/json"),
    "/sgx/certification/v4/pckcrl": ("pck_crl.der", "SGX-PCK-CRL-Issuer-Chain",
                                     "pck_crl_issuer_chain.pem", "application/pkix-crl"),
    "/sgx/certification/v4/rootcacrl": ("root_ca_crl.der", None, None, "text/plain"),
}


class State:
    def __init__(self, bundle_dir, kds_index):
        self.lock = threading.Lock()
        self.stats = {}
        self.fault = None
        self.files = {}
        self.kds = {}
        self.fmspc = None
        if kds_index:
            base = os.path.dirname(os.path.abspath(kds_index))
            with open(kds_index) as f:
                for path, rel in json.load(f)["paths"].items():
                    with open(os.path.join(base, rel), "rb") as g:
                        self.kds[path] = g.read()
        if not bundle_dir:
            return
        for name in os.listdir(bundle_dir):
            with open(os.path.join(bundle_dir, name), "rb") as f:
                self.files[name] = f.read()
        info = json.loads(self.files["tcb_info_response.json"])
        self.fmspc = info["tcbInfo"]["fmspc"].lower()

    def take_fault(self, path):
        with self.lock:
            f = self.fault
            if not f or not path.startswith(f.get("path", "/")):
                return None
            if "times" in f:
                f["times"] -= 1
                if f["times"] <= 0:
                    self.fault = None
            return f


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def count_and_fault(self, st, path, counted=None):
        """Counts an API request (as `counted`, default its path) and applies the fault set for
        its path: returns (kind, answered)."""
        counted = counted or path
        with st.lock:
            st.stats[counted] = st.stats.get(counted, 0) + 1
        fault = st.take_fault(path)
        kind = fault["kind"] if fault else None
        if kind in ("404", "500", "503", "429"):
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = fault["retry_after"]
            self.send(int(kind), b"", headers)
            return kind, True
        if kind == "slow":
            time.sleep(float(fault.get("seconds", "5")))
        return kind, False

    def kds_get(self, st, url):
        kind, answered = self.count_and_fault(st, url.path)
        if answered:
            return
        body = st.kds.get(self.path)
        if body is None:
            return self.send(404)
        ctype = "application/x-pem-file" if url.path.endswith("/cert_chain") \
            else "application/pkix-cert"
        self.send(200, body, {"Content-Type": ctype})

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_stats":
            with st.lock:
                return self.send(200, json.dumps(st.stats).encode())
        if url.path == "/_fault":
            with st.lock:
                st.fault = None if query.get("kind", "none") == "none" else dict(query)
                if st.fault and "times" in st.fault:
                    st.fault["times"] = int(st.fault["times"])
            return self.send(200, b"ok")
        if url.path.startswith(("/vcek/", "/vlek/")):
            return self.kds_get(st, url)
        if url.path not in API or not st.files:
            return self.send(404)
        early = url.path == "/tdx/certification/v4/tcb" and query.get("update") == "early"
        kind, answered = self.count_and_fault(
            st, url.path, url.path + ("?update=early" if early else ""))
        if answered:
            return
        file, header, chain_file, ctype = API[url.path]
        if url.path == "/tdx/certification/v4/tcb" and query.get("fmspc", "").lower() != st.fmspc:
            return self.send(404)
        if early:
            file = "tcb_info_early_response.json"
            if file not in st.files:
                return self.send(404)
        body = st.files[file]
        if url.path == "/sgx/certification/v4/rootcacrl":
            body = body.hex().encode()
        headers = {"Content-Type": ctype}
        if header:
            chain = st.files[chain_file]
            if kind == "wrong_chain":  # another item's chain: the signature cannot verify
                other = "pck_crl_issuer_chain.pem" if chain_file != "pck_crl_issuer_chain.pem" \
                    else "tcb_info_issuer_chain.pem"
                chain = st.files[other]
            headers[header] = urllib.parse.quote(chain.decode(), safe="")
        if kind == "truncated":  # announces the full length, sends half, closes
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.send(200, body, headers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bundle", help="a tests/data/tdx/collateral/<name> directory")
    p.add_argument("--kds", help="an AMD KDS index (tests/data/sevsnp/kds/index.json)")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.bundle, args.kds)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
