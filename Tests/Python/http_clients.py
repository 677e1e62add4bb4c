"""Real HTTP clients against a Switchboard server, for the body-limit and timeout tests.

    http_clients.py urllib|requests BASE_URL BYTES METHOD PATH [METHOD PATH ...]
        sends a body of BYTES bytes with each request; prints "METHOD PATH STATUS" per request
        ("METHOD PATH none: <error>" when the client got no answer)
    http_clients.py big-header urllib|requests|socket BASE_URL BYTES
        sends GET /ping with one header of BYTES bytes; prints the status ("none: <error>"
        when the client got no answer)
    http_clients.py unfinished-head|idle-after-request HOST PORT
        opens a connection, sends half a request head (or a whole request, and reads its
        answer) and waits; prints "closed" when the server closes the connection, "open" if it
        is still open after 120 s
"""
import socket
import sys


def send_all(client, base, size, pairs):
    body = b"x" * size
    for method, path in pairs:
        url = base + path
        try:
            if client == "urllib":
                import urllib.error
                import urllib.request
                request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
            else:
                import requests
                status = requests.request(method, url, data=body, headers={"Content-Type": "application/json"}, timeout=60).status_code
            print(f"{method} {path} {status}", flush=True)
        except Exception as error:  # the client got no answer: what the test is about
            print(f"{method} {path} none: {error!r}", flush=True)


def wait_for_close(host, port, complete):
    connection = socket.create_connection((host, int(port)))
    connection.settimeout(120)
    if complete:
        connection.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b'"pong"}'):
            answer += connection.recv(4096)
    else:
        connection.sendall(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    try:
        while connection.recv(4096):
            pass
        print("closed")
    except socket.timeout:
        print("open")
    except ConnectionResetError:
        print("closed")


def big_header(client, base, size):
    value = "a" * size
    try:
        if client == "urllib":
            import urllib.error
            import urllib.request
            try:
                with urllib.request.urlopen(urllib.request.Request(base + "/ping", headers={"X-Big": value}), timeout=60) as response:
                    print(response.status)
            except urllib.error.HTTPError as error:
                print(error.code)
        elif client == "requests":
            import requests
            print(requests.get(base + "/ping", headers={"X-Big": value}, timeout=60).status_code)
        else:
            host, port = base.removeprefix("http://").split(":")
            connection = socket.create_connection((host, int(port)))
            connection.settimeout(60)
            connection.sendall(f"GET /ping HTTP/1.1\r\nHost: {host}\r\nX-Big: {value}\r\n\r\n".encode())
            print(connection.recv(4096).split(b" ")[1].decode())
    except Exception as error:
        print(f"none: {error!r}")


if sys.argv[1] == "big-header":
    big_header(sys.argv[2], sys.argv[3], int(sys.argv[4]))
elif sys.argv[1] in ("unfinished-head", "idle-after-request"):
    wait_for_close(sys.argv[2], sys.argv[3], complete=sys.argv[1] == "idle-after-request")
else:
    send_all(sys.argv[1], sys.argv[2], int(sys.argv[3]), list(zip(sys.argv[4::2], sys.argv[5::2])))
