/* ft-osm-reader.h — a plain C API over libosmium's PBF decoder
 * (ft-osm-reader.cc): walks the blocks of an OpenStreetMap PBF held in
 * memory and hands every node, way and relation to C callbacks. Every
 * error, thrown or found, comes back as a message; nothing escapes as an
 * exception, an abort or a read outside the given bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *key, *value;            /* NUL-terminated, valid during the callback */
} FtOsmTag;

typedef enum {
  FT_OSM_MEMBER_NODE,
  FT_OSM_MEMBER_WAY,
  FT_OSM_MEMBER_RELATION,
} FtOsmMemberType;

typedef struct {
  FtOsmMemberType type;
  int64_t         ref;
  const char     *role;               /* "" when none */
} FtOsmMember;

/* Each callback may be NULL; returning non-zero stops the read, which then
 * returns FT_OSM_READ_STOPPED. Arrays are valid during the callback only. */
typedef struct {
  int (*node)     (void *user, int64_t id, double lat, double lon,
                   const FtOsmTag *tags, size_t n_tags);
  int (*way)      (void *user, int64_t id, const int64_t *refs, size_t n_refs,
                   const FtOsmTag *tags, size_t n_tags);
  int (*relation) (void *user, int64_t id, const FtOsmMember *members, size_t n_members,
                   const FtOsmTag *tags, size_t n_tags);
} FtOsmReaderCallbacks;

typedef enum {
  FT_OSM_READ_OK = 0,
  FT_OSM_READ_INVALID,                /* *error_out says why and where */
  FT_OSM_READ_STOPPED,                /* a callback returned non-zero */
} FtOsmReadResult;

/* Reads the PBF in data[0..len). Nodes without a valid WGS84 position are
 * refused (the file is invalid). On FT_OSM_READ_INVALID, *error_out (if
 * error_out is not NULL) gets a malloc'd message to free() such as "block 3
 * at byte 81234: failed to uncompress data". */
FtOsmReadResult ft_osm_reader_read_pbf (const uint8_t *data, size_t len,
                                        const FtOsmReaderCallbacks *callbacks,
                                        void *user, char **error_out);

#ifdef __cplusplus
}
#endif
