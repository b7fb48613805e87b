package teeclient

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/sys/unix"
)

// The Nitro Secure Module API: a CBOR request {"Attestation": {"user_data", "nonce",
// "public_key"}} answered by {"Attestation": {"document": bstr}} or {"Error": "..."}.

type nsmAttestationRequest struct {
	UserData  []byte `cbor:"user_data"`
	Nonce     []byte `cbor:"nonce"`
	PublicKey []byte `cbor:"public_key"`
}

type nsmRequest struct {
	Attestation nsmAttestationRequest `cbor:"Attestation"`
}

type nsmResponse struct {
	Attestation *struct {
		Document []byte `cbor:"document"`
	} `cbor:"Attestation"`
	Error *string `cbor:"Error"`
}

const nsmMaxResponse = 16 << 10

// nitroEvidence asks the NSM for an attestation document whose nonce is reportData. The device
// is /dev/nsm (an ioctl); a unix socket at the same path is a test provider (tee-testgen
// serve-nsm) speaking the same CBOR over a connection.
func nitroEvidence(path string, reportData [64]byte) (*Evidence, error) {
	req, err := cbor.Marshal(nsmRequest{Attestation: nsmAttestationRequest{Nonce: reportData[:]}})
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("nsm: %w", err)
	}
	var raw []byte
	if info.Mode()&os.ModeSocket != 0 {
		raw, err = nsmOverSocket(path, req)
	} else {
		raw, err = nsmOverIoctl(path, req)
	}
	if err != nil {
		return nil, err
	}
	var resp nsmResponse
	if err := cbor.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("nsm: unreadable response: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("nsm: %s", *resp.Error)
	}
	if resp.Attestation == nil || len(resp.Attestation.Document) == 0 {
		return nil, errors.New("nsm: response carries no attestation document")
	}
	return &Evidence{TeeType: "nitro", Bytes: resp.Attestation.Document}, nil
}

func nsmOverSocket(path string, req []byte) ([]byte, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("nsm: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(req); err != nil {
		return nil, fmt.Errorf("nsm: %w", err)
	}
	if err := conn.(*net.UnixConn).CloseWrite(); err != nil {
		return nil, fmt.Errorf("nsm: %w", err)
	}
	return io.ReadAll(io.LimitReader(conn, nsmMaxResponse))
}

// nsmMessage is the ioctl argument of the Nitro Secure Module driver (linux
// drivers/misc/nsm.c: struct nsm_raw { struct nsm_data_req request; struct nsm_data_resp
// response; }, each an iovec-like {u64 addr; u32 len}).
type nsmIovec struct {
	Addr uint64
	Len  uint32
	_    uint32
}

type nsmMessage struct {
	Request  nsmIovec
	Response nsmIovec
}

// NSM_IOCTL_REQUEST = _IOWR(0x0A, 0, struct nsm_raw)
var nsmIoctlRequest = iowr(0x0A, 0, unsafe.Sizeof(nsmMessage{}))

func nsmOverIoctl(path string, req []byte) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("nsm: %w", err)
	}
	defer f.Close()
	resp := make([]byte, nsmMaxResponse)
	msg := nsmMessage{
		Request:  nsmIovec{Addr: uint64(uintptr(unsafe.Pointer(&req[0]))), Len: uint32(len(req))},
		Response: nsmIovec{Addr: uint64(uintptr(unsafe.Pointer(&resp[0]))), Len: uint32(len(resp))},
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), nsmIoctlRequest, uintptr(unsafe.Pointer(&msg))); errno != 0 {
		return nil, fmt.Errorf("nsm: ioctl: %w", errno)
	}
	return resp[:msg.Response.Len], nil
}

// iowr computes _IOWR(type, nr, size) as in the Linux ioctl headers.
func iowr(typ, nr, size uintptr) uintptr {
	const read, write = 2, 1
	return (read|write)<<30 | size<<16 | typ<<8 | nr
}
