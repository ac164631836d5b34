/* ft-wall-error.h — the error domain of the wallboard's sources, drawing
 * core and frame export: every message names the file, broker or device
 * and says what to do.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FT_WALL_ERROR (ft_wall_error_quark ())
GQuark ft_wall_error_quark (void);
typedef enum {
  FT_WALL_ERROR_INVALID,     /* bad argument text (a time, a size, a source name) */
  FT_WALL_ERROR_SOURCE,      /* a scenario, run database or broker that cannot be used */
  FT_WALL_ERROR_SDL,         /* SDL refused (window, renderer, texture) */
  FT_WALL_ERROR_EXPORT,      /* writing frames or the video failed */
} FtWallError;

G_END_DECLS
