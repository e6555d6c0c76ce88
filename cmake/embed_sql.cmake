# Generates a C file that embeds the SQL migrations of schema/ so every binary carries the
# schema it expects (no path to find at run time). Invoked by store/CMakeLists.txt:
#   cmake -DSCHEMA_DIR=... -DOUT=... -P embed_sql.cmake
function(emit_set var scope)
    file(GLOB files "${SCHEMA_DIR}/${scope}/*.sql")
    list(SORT files)
    set(body "")
    set(rows "")
    set(i 0)
    foreach(f IN LISTS files)
        get_filename_component(name "${f}" NAME)
        file(READ "${f}" hex HEX)
        string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
        string(APPEND body "static const char ${var}_${i}[] = {${hex}0};\n")
        string(APPEND rows "    {\"${scope}/${name}\", ${var}_${i}},\n")
        math(EXPR i "${i} + 1")
    endforeach()
    if(i EQUAL 0)
        set(rows "    {0, 0},\n")
    endif()
    set(${var}_body "${body}" PARENT_SCOPE)
    set(${var}_rows "${rows}" PARENT_SCOPE)
    set(${var}_count ${i} PARENT_SCOPE)
endfunction()

emit_set(pub public)
emit_set(ten tenant)
file(WRITE "${OUT}.tmp"
"/* Generated from schema/ by cmake/embed_sql.cmake; do not edit. */
#include \"store/migrate.h\"

${pub_body}${ten_body}
const store_migration store_public_migrations[] = {
${pub_rows}};
const size_t store_public_migrations_len = ${pub_count};
const store_migration store_tenant_migrations[] = {
${ten_rows}};
const size_t store_tenant_migrations_len = ${ten_count};
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
