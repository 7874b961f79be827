#include "textflag.h"

// func vforkSyscall(trap, a1, a2 uintptr) (r1 uintptr, err uintptr)
//
// A system call that may return twice on one stack (clone3 with CLONE_VM
// and CLONE_VFORK): the return address is kept in a register across the
// call, so the child, which returns first and then runs on the same stack,
// cannot clobber it for the parent.
TEXT ·vforkSyscall(SB),NOSPLIT|NOFRAME,$0-40
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	$0, DX
	MOVQ	$0, R10
	MOVQ	$0, R8
	MOVQ	$0, R9
	MOVQ	trap+0(FP), AX
	POPQ	R12
	SYSCALL
	PUSHQ	R12
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r1+24(FP)
	NEGQ	AX
	MOVQ	AX, err+32(FP)
	RET
ok:
	MOVQ	AX, r1+24(FP)
	MOVQ	$0, err+32(FP)
	RET
