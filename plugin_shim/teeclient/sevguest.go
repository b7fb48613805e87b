package teeclient

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// /dev/sev-guest (linux include/uapi/linux/sev-guest.h): SNP_GET_REPORT, for guests whose kernel
// has no configfs-tsm. It returns the report alone; the VCEK must then come from elsewhere
// (tee-login -certificate).

type snpReportReq struct {
	UserData [64]byte
	VMPL     uint32
	_        [28]byte
}

type snpReportResp struct {
	Data [4000]byte
}

type snpGuestRequestIoctl struct {
	MsgVersion uint8
	_          [7]byte
	ReqData    uint64
	RespData   uint64
	ExitInfo2  uint64
}

// SNP_GET_REPORT = _IOWR('S', 0x0, struct snp_guest_request_ioctl)
var snpGetReport = iowr('S', 0, unsafe.Sizeof(snpGuestRequestIoctl{}))

const snpReportSize = 1184

func sevGuestEvidence(path string, vmpl int, reportData [64]byte) (*Evidence, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("sev-guest: %w", err)
	}
	defer f.Close()
	req := snpReportReq{UserData: reportData}
	if vmpl > 0 {
		req.VMPL = uint32(vmpl)
	}
	var resp snpReportResp
	arg := snpGuestRequestIoctl{
		MsgVersion: 1,
		ReqData:    uint64(uintptr(unsafe.Pointer(&req))),
		RespData:   uint64(uintptr(unsafe.Pointer(&resp))),
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), snpGetReport, uintptr(unsafe.Pointer(&arg))); errno != 0 {
		return nil, fmt.Errorf("sev-guest: SNP_GET_REPORT: %w (exitinfo2 0x%x)", errno, arg.ExitInfo2)
	}
	// struct snp_report_resp: u32 status, u32 report_size, 24 reserved bytes, then the report.
	status := binary.LittleEndian.Uint32(resp.Data[0:4])
	size := binary.LittleEndian.Uint32(resp.Data[4:8])
	if status != 0 || size != snpReportSize {
		return nil, fmt.Errorf("sev-guest: firmware status 0x%x, report size %d", status, size)
	}
	return &Evidence{TeeType: "sev-snp", Bytes: append([]byte(nil), resp.Data[32:32+snpReportSize]...)}, nil
}
