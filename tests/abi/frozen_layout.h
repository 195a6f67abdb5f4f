/* Layout facts of the frozen ABI 1.0 header (see frozen_layout.c). */
#ifndef DHL_FROZEN_LAYOUT_H
#define DHL_FROZEN_LAYOUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const size_t dhl_frozen_host_offsets[];
extern const size_t dhl_frozen_host_count;
extern const size_t dhl_frozen_host_size;
extern const size_t dhl_frozen_desc_offsets[];
extern const size_t dhl_frozen_desc_count;
extern const size_t dhl_frozen_desc_size;
extern const size_t dhl_frozen_payload_size;
extern const size_t dhl_frozen_target_size;
extern const size_t dhl_frozen_str_size;
extern const size_t dhl_frozen_method_size;

#ifdef __cplusplus
}
#endif

#endif
