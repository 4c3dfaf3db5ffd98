//go:build amd64 && !purego

#include "textflag.h"

// The error classes of Keiser and Lemire's lookup algorithm. Each of three
// tables maps a nibble to the classes it can take part in: the high and low
// nibbles of the previous byte, and the high nibble of this one. A byte pair
// is an error when all three agree on a class.
//
//   0x01 too short: a lead byte not followed by a continuation
//   0x02 too long: ASCII followed by a continuation
//   0x04 overlong 3-byte: E0 80..9F
//   0x08 too large: F4 90..BF, F5..FF 90..BF
//   0x10 surrogate: ED A0..BF
//   0x20 overlong 2-byte: C0..C1 followed by a continuation
//   0x40 overlong 4-byte (F0 80..8F) or too large (F5..FF 80..8F)
//   0x80 two continuations, an error unless a 3- or 4-byte lead is two or
//        three bytes back: that is checked apart and flips the bit
//
// Each 16-byte table is stored twice, once for each 128-bit lane of AVX2.

// by the high nibble of the previous byte
DATA prevHigh<>+0(SB)/8, $0x0202020202020202
DATA prevHigh<>+8(SB)/8, $0x4915012180808080
DATA prevHigh<>+16(SB)/8, $0x0202020202020202
DATA prevHigh<>+24(SB)/8, $0x4915012180808080
GLOBL prevHigh<>(SB), RODATA|NOPTR, $32

// by the low nibble of the previous byte
DATA prevLow<>+0(SB)/8, $0xCBCBCB8B8383A3E7
DATA prevLow<>+8(SB)/8, $0xCBCBDBCBCBCBCBCB
DATA prevLow<>+16(SB)/8, $0xCBCBCB8B8383A3E7
DATA prevLow<>+24(SB)/8, $0xCBCBDBCBCBCBCBCB
GLOBL prevLow<>(SB), RODATA|NOPTR, $32

// by the high nibble of this byte
DATA thisHigh<>+0(SB)/8, $0x0101010101010101
DATA thisHigh<>+8(SB)/8, $0x01010101BABAAEE6
DATA thisHigh<>+16(SB)/8, $0x0101010101010101
DATA thisHigh<>+24(SB)/8, $0x01010101BABAAEE6
GLOBL thisHigh<>(SB), RODATA|NOPTR, $32

DATA nibble<>+0(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA nibble<>+8(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA nibble<>+16(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA nibble<>+24(SB)/8, $0x0F0F0F0F0F0F0F0F
GLOBL nibble<>(SB), RODATA|NOPTR, $32

// Subtracted with saturation, these leave bit 7 set only in a byte at
// least E0 (a 3- or 4-byte lead) and at least F0 (a 4-byte lead).
DATA is3<>+0(SB)/8, $0x6060606060606060
DATA is3<>+8(SB)/8, $0x6060606060606060
DATA is3<>+16(SB)/8, $0x6060606060606060
DATA is3<>+24(SB)/8, $0x6060606060606060
GLOBL is3<>(SB), RODATA|NOPTR, $32

DATA is4<>+0(SB)/8, $0x7070707070707070
DATA is4<>+8(SB)/8, $0x7070707070707070
DATA is4<>+16(SB)/8, $0x7070707070707070
DATA is4<>+24(SB)/8, $0x7070707070707070
GLOBL is4<>(SB), RODATA|NOPTR, $32

DATA bit7<>+0(SB)/8, $0x8080808080808080
DATA bit7<>+8(SB)/8, $0x8080808080808080
DATA bit7<>+16(SB)/8, $0x8080808080808080
DATA bit7<>+24(SB)/8, $0x8080808080808080
GLOBL bit7<>(SB), RODATA|NOPTR, $32

// Subtracted with saturation from a block, this leaves a non-zero byte
// only where a sequence starts too late to end in the block: a 4-byte lead
// in its last 3 bytes, a 3-byte lead in its last 2, any lead in its last.
// The AVX2 form is 32 bytes; SSSE3 reads its last 16.
DATA late<>+0(SB)/8, $0xFFFFFFFFFFFFFFFF
DATA late<>+8(SB)/8, $0xFFFFFFFFFFFFFFFF
DATA late<>+16(SB)/8, $0xFFFFFFFFFFFFFFFF
DATA late<>+24(SB)/8, $0xBFDFEFFFFFFFFFFF
GLOBL late<>(SB), RODATA|NOPTR, $32

// CHECK32 checks the block in Y0 against the one before it in Y14 and
// leaves the block in Y14 for the next. Y13 gathers errors; Y15 gets the
// sequences the block leaves unfinished, an error if ASCII comes next.
#define CHECK32 \
	VPERM2I128 $0x21, Y0, Y14, Y1 \ // the previous block's high lane, this block's low one
	VPALIGNR   $15, Y1, Y0, Y2    \ // the byte before each byte
	VPALIGNR   $14, Y1, Y0, Y3    \ // two before
	VPALIGNR   $13, Y1, Y0, Y4    \ // three before
	VPSRLW     $4, Y2, Y5         \
	VPAND      Y11, Y5, Y5        \
	VPSHUFB    Y5, Y8, Y5         \
	VPAND      Y11, Y2, Y6        \
	VPSHUFB    Y6, Y9, Y6         \
	VPAND      Y6, Y5, Y5         \
	VPSRLW     $4, Y0, Y7         \
	VPAND      Y11, Y7, Y7        \
	VPSHUFB    Y7, Y10, Y7        \
	VPAND      Y7, Y5, Y5         \ // the classes all three agree on
	VPSUBUSB   is3<>(SB), Y3, Y3  \
	VPSUBUSB   is4<>(SB), Y4, Y4  \
	VPOR       Y3, Y4, Y3         \
	VPAND      bit7<>(SB), Y3, Y3 \ // where a third or fourth byte must be
	VPXOR      Y3, Y5, Y5         \
	VPOR       Y5, Y13, Y13       \
	VPSUBUSB   Y12, Y0, Y15       \
	VMOVDQU    Y0, Y14

// func validAVX2(p []byte) bool
TEXT ·validAVX2(SB), NOSPLIT, $32-25
	MOVQ    p_base+0(FP), SI
	MOVQ    p_len+8(FP), CX
	VMOVDQU prevHigh<>(SB), Y8
	VMOVDQU prevLow<>(SB), Y9
	VMOVDQU thisHigh<>(SB), Y10
	VMOVDQU nibble<>(SB), Y11
	VMOVDQU late<>(SB), Y12
	VPXOR   Y13, Y13, Y13
	VPXOR   Y14, Y14, Y14
	VPXOR   Y15, Y15, Y15

avx2loop:
	CMPQ      CX, $32
	JB        avx2tail
	VMOVDQU   (SI), Y0
	ADDQ      $32, SI
	SUBQ      $32, CX
	VPMOVMSKB Y0, AX
	TESTL     AX, AX
	JNZ       avx2multi

	// All ASCII: fine, unless the block before left a sequence open.
	VPOR    Y15, Y13, Y13
	VPXOR   Y15, Y15, Y15
	VMOVDQU Y0, Y14
	JMP     avx2loop

avx2multi:
	CHECK32
	JMP avx2loop

avx2tail:
	// The rest, under 32 bytes, padded with zeros: ASCII after a
	// sequence cut short is caught as too short.
	VPXOR   Y0, Y0, Y0
	VMOVDQU Y0, 0(SP)
	// Copied in at most five moves, as the bits of CX say.
	MOVQ  SP, DI
	TESTQ $16, CX
	JZ    avx28
	MOVOU (SI), X0
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI

avx28:
	TESTQ $8, CX
	JZ    avx24
	MOVQ  (SI), AX
	MOVQ  AX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

avx24:
	TESTQ $4, CX
	JZ    avx22
	MOVL  (SI), AX
	MOVL  AX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

avx22:
	TESTQ $2, CX
	JZ    avx21
	MOVW  (SI), AX
	MOVW  AX, (DI)
	ADDQ  $2, SI
	ADDQ  $2, DI

avx21:
	TESTQ $1, CX
	JZ    avx2last
	MOVB  (SI), AX
	MOVB  AX, (DI)

avx2last:
	VMOVDQU 0(SP), Y0
	CHECK32
	VPTEST     Y13, Y13
	SETEQ      ret+24(FP)
	VZEROUPPER
	RET

// CHECK16 is CHECK32 for SSSE3, on X registers; constants that SSE cannot
// take from unaligned memory are loaded into X1 first.
#define CHECK16 \
	MOVOU   X0, X2             \
	PALIGNR $15, X14, X2       \
	MOVOU   X0, X3             \
	PALIGNR $14, X14, X3       \
	MOVOU   X0, X4             \
	PALIGNR $13, X14, X4       \
	MOVOU   X2, X5             \
	PSRLW   $4, X5             \
	PAND    X11, X5            \
	MOVOU   X8, X6             \
	PSHUFB  X5, X6             \
	MOVOU   X2, X5             \
	PAND    X11, X5            \
	MOVOU   X9, X7             \
	PSHUFB  X5, X7             \
	PAND    X7, X6             \
	MOVOU   X0, X5             \
	PSRLW   $4, X5             \
	PAND    X11, X5            \
	MOVOU   X10, X7            \
	PSHUFB  X5, X7             \
	PAND    X7, X6             \
	MOVOU   is3<>(SB), X1      \
	PSUBUSB X1, X3             \
	MOVOU   is4<>(SB), X1      \
	PSUBUSB X1, X4             \
	POR     X4, X3             \
	MOVOU   bit7<>(SB), X1     \
	PAND    X1, X3             \
	PXOR    X3, X6             \
	POR     X6, X13            \
	MOVOU   X0, X15            \
	PSUBUSB X12, X15           \
	MOVOU   X0, X14

// func validSSSE3(p []byte) bool
TEXT ·validSSSE3(SB), NOSPLIT, $16-25
	MOVQ  p_base+0(FP), SI
	MOVQ  p_len+8(FP), CX
	MOVOU prevHigh<>(SB), X8
	MOVOU prevLow<>(SB), X9
	MOVOU thisHigh<>(SB), X10
	MOVOU nibble<>(SB), X11
	MOVOU late<>+16(SB), X12
	PXOR  X13, X13
	PXOR  X14, X14
	PXOR  X15, X15

sseloop:
	CMPQ     CX, $16
	JB       ssetail
	MOVOU    (SI), X0
	ADDQ     $16, SI
	SUBQ     $16, CX
	PMOVMSKB X0, AX
	TESTL    AX, AX
	JNZ      ssemulti
	POR      X15, X13
	PXOR     X15, X15
	MOVOU    X0, X14
	JMP      sseloop

ssemulti:
	CHECK16
	JMP sseloop

ssetail:
	PXOR  X0, X0
	MOVOU X0, 0(SP)
	// Copied in at most five moves, as the bits of CX say.
	MOVQ  SP, DI
	TESTQ $16, CX
	JZ    sse8
	MOVOU (SI), X0
	MOVOU X0, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI

sse8:
	TESTQ $8, CX
	JZ    sse4
	MOVQ  (SI), AX
	MOVQ  AX, (DI)
	ADDQ  $8, SI
	ADDQ  $8, DI

sse4:
	TESTQ $4, CX
	JZ    sse2
	MOVL  (SI), AX
	MOVL  AX, (DI)
	ADDQ  $4, SI
	ADDQ  $4, DI

sse2:
	TESTQ $2, CX
	JZ    sse1
	MOVW  (SI), AX
	MOVW  AX, (DI)
	ADDQ  $2, SI
	ADDQ  $2, DI

sse1:
	TESTQ $1, CX
	JZ    sselast
	MOVB  (SI), AX
	MOVB  AX, (DI)

sselast:
	MOVOU 0(SP), X0
	CHECK16
	PXOR    X1, X1
	PCMPEQB X13, X1
	PMOVMSKB X1, AX
	CMPL    AX, $0xFFFF
	SETEQ   ret+24(FP)
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// func xgetbv() uint32
TEXT ·xgetbv(SB), NOSPLIT, $0-4
	MOVL   $0, CX
	XGETBV
	MOVL   AX, ret+0(FP)
	RET
