//go:build amd64 && !purego

#include "textflag.h"

// func maskBlocks(b []byte, k uint64) int
TEXT ·maskBlocks(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), DI
	MOVQ b_len+8(FP), CX
	MOVQ k+24(FP), AX
	ANDQ $-64, CX
	MOVQ CX, ret+32(FP)
	JZ   done
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0

loop:
	MOVOU 0(DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	JNZ   loop

done:
	RET

// func maskCopyBlocks(dst, src []byte, k uint64) int
TEXT ·maskCopyBlocks(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ k+48(FP), AX
	ANDQ $-64, CX
	MOVQ CX, ret+56(FP)
	JZ   copydone
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0

copyloop:
	MOVOU 0(SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, SI
	ADDQ  $64, DI
	SUBQ  $64, CX
	JNZ   copyloop

copydone:
	RET
