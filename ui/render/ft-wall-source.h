/* ft-wall-source.h — what the wallboard shows: a scenario simulated here
 * (sim/), a run database replayed from its event log (read-only), or a live
 * twin followed over MQTT (src/live, read-only: no commands, no status
 * announcements, vehicles kept in a private in-memory core). Each fills an
 * FtWallScene for a given time; the drawing core never knows which.
 */
#pragma once

#include "ft-wall-scene.h"
#include "ft-wall-error.h"

G_BEGIN_DECLS

typedef enum {
  FT_WALL_SOURCE_SCENARIO,
  FT_WALL_SOURCE_RUNDB,
  FT_WALL_SOURCE_LIVE,
} FtWallSourceKind;

typedef struct {
  const char *prefix;             /* live: fleet topic prefix (default "ft/demo") */
  guint       connect_timeout_ms; /* live: default 5000 */
  int         days;               /* scenario: override its length (0 = as written) */
} FtWallSourceOptions;

typedef struct _FtWallSource FtWallSource;

/* spec: "mqtt://…" / "mqtts://…" (live), "*.scenario" (simulate), anything
 * else a run database. opt may be NULL. Errors name the file or broker. */
FtWallSource    *ft_wall_source_open       (const char *spec, const FtWallSourceOptions *opt,
                                            GError **error);
void             ft_wall_source_free       (FtWallSource *src);
FtWallSourceKind ft_wall_source_get_kind   (FtWallSource *src);
/* Simulated/replayed time range (live: wall clock, end G_MAXINT64). */
FtTime           ft_wall_source_start_time (FtWallSource *src);
FtTime           ft_wall_source_end_time   (FtWallSource *src);
/* MBTiles of the source's city if known (a city pack's tiles, or Demo
 * City's baked tiles for "demo"); NULL otherwise. Borrowed. */
const char      *ft_wall_source_get_tiles_path (FtWallSource *src);
/* Brings the scene to time t (later than the last call; live ignores t and
 * uses the wall clock). FALSE with an error when the source failed (the
 * scene keeps what it had). */
gboolean         ft_wall_source_update     (FtWallSource *src, FtTime t, FtWallScene *scene,
                                            GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtWallSource, ft_wall_source_free)

/* Demo City's baked tiles: $FT_DEMO_TILES, the build tree, then the
 * install prefix; NULL when none exists. Caller frees. */
char            *ft_wall_find_demo_tiles   (void);

G_END_DECLS
