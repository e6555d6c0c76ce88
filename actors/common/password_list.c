/* The common-password list (actors/common/data/common-passwords.txt: 49,233 of the most
 * common breached passwords, exported from @zxcvbn-ts/language-common by
 * web/scripts/export-common-passwords.mjs), built into the binary so no path is needed at run
 * time. One lowercase password a line; NUL-terminated here. */
__asm__(".section .rodata\n"
        ".global sw_common_passwords_txt\n"
        ".type sw_common_passwords_txt, @object\n"
        "sw_common_passwords_txt:\n"
        ".incbin \"" SW_COMMON_PASSWORDS_FILE "\"\n"
        ".byte 0\n"
        ".previous\n");
