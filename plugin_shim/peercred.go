package teeauth

import (
	"context"
	"fmt"
	"net"
	"strings"

	"golang.org/x/sys/unix"
)

// A unix socket is only as trustworthy as whoever listens on it: a local user who could replace
// the socket file would otherwise answer for the sidecar and allow everything. Every connection
// checks the listening process's user (SO_PEERCRED, taken by the kernel when it listened)
// against sidecar_uid, and is refused before a byte is sent when they differ.

// unixDialer dials the socket of a "unix:" target and checks that its peer runs as wantUID.
func unixDialer(wantUID int) func(context.Context, string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		path := strings.TrimPrefix(strings.TrimPrefix(addr, "unix://"), "unix:")
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return nil, err
		}
		if err := checkPeerUID(conn.(*net.UnixConn), wantUID); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// checkPeerUID refuses a connection whose peer is not user wantUID.
func checkPeerUID(conn *net.UnixConn, wantUID int) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("sidecar socket: reading the peer's credentials (SO_PEERCRED): %w", credErr)
	}
	if int(cred.Uid) != wantUID {
		return fmt.Errorf("sidecar socket: the process listening on it (pid %d) runs as uid %d, not sidecar_uid %d: refused",
			cred.Pid, cred.Uid, wantUID)
	}
	return nil
}
