package isolate

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mincore reports, in vec (one byte per page, bit 0), which pages of b are
// resident. x/sys/unix has no wrapper for it.
func mincore(b, vec []byte) error {
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		return errno
	}
	return nil
}
