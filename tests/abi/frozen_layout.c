/* The member offsets of the frozen ABI 1.0 structs, for abi_test.cpp to
 * compare with today's header: members may only be appended. */
#include <daheim/plugin.h>

#include "frozen_layout.h"

#define OFF(type, member) offsetof(type, member)

const size_t dhl_frozen_host_offsets[] = {
    OFF(dhl_host, struct_size),
    OFF(dhl_host, abi_major),
    OFF(dhl_host, abi_minor),
    OFF(dhl_host, log),
    OFF(dhl_host, config),
    OFF(dhl_host, socket_info),
    OFF(dhl_host, socket_header),
    OFF(dhl_host, socket_query),
    OFF(dhl_host, socket_header_at),
    OFF(dhl_host, socket_query_at),
    OFF(dhl_host, socket_data),
    OFF(dhl_host, socket_set_data),
    OFF(dhl_host, socket_find),
    OFF(dhl_host, emit),
    OFF(dhl_host, emit_with_ack),
    OFF(dhl_host, emit_to),
    OFF(dhl_host, emit_to_with_ack),
    OFF(dhl_host, emit_to_user),
    OFF(dhl_host, join),
    OFF(dhl_host, leave),
    OFF(dhl_host, disconnect),
    OFF(dhl_host, reply),
    OFF(dhl_host, reply_error),
    OFF(dhl_host, call_defer),
    OFF(dhl_host, call_wants_ack),
    OFF(dhl_host, post),
    OFF(dhl_host, timer_create),
    OFF(dhl_host, timer_arm),
    OFF(dhl_host, timer_disarm),
    OFF(dhl_host, timer_destroy),
    OFF(dhl_host, now_ms),
};
const size_t dhl_frozen_host_count = sizeof dhl_frozen_host_offsets / sizeof(size_t);
const size_t dhl_frozen_host_size = sizeof(dhl_host);

const size_t dhl_frozen_desc_offsets[] = {
    OFF(dhl_plugin_desc, struct_size),   OFF(dhl_plugin_desc, abi_major),
    OFF(dhl_plugin_desc, abi_minor),     OFF(dhl_plugin_desc, name),
    OFF(dhl_plugin_desc, version),       OFF(dhl_plugin_desc, init),
    OFF(dhl_plugin_desc, shutdown),      OFF(dhl_plugin_desc, on_connect),
    OFF(dhl_plugin_desc, on_disconnect), OFF(dhl_plugin_desc, methods),
    OFF(dhl_plugin_desc, method_count),
};
const size_t dhl_frozen_desc_count = sizeof dhl_frozen_desc_offsets / sizeof(size_t);
const size_t dhl_frozen_desc_size = sizeof(dhl_plugin_desc);

const size_t dhl_frozen_payload_size = sizeof(dhl_payload);
const size_t dhl_frozen_target_size = sizeof(dhl_target);
const size_t dhl_frozen_str_size = sizeof(dhl_str);
const size_t dhl_frozen_method_size = sizeof(dhl_method);
