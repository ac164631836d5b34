/* ft-wall-draw.h — the drawing core shared by fleet-twin-wallboard and
 * `fleet-twin-cli render`: one SDL_Renderer (a window's GPU or software
 * renderer, or a software renderer onto a surface when headless) draws an
 * FtWallScene in one of three views: the city map, a district close-up, or
 * the KPI charts. Map tiles come from an MBTiles file (src/city ft-tiles),
 * decoded with cairo's PNG reader into SDL textures, drawn once per view
 * into a map texture; vehicles go out in one batch per layer (an
 * SDL_RenderGeometry call on a GPU, an SDL_RenderFillRects call on SDL's
 * software renderer); KPI tiles, the alert ticker and messages are drawn
 * with cairo into small textures.
 *
 * A problem it cannot draw around (missing tiles, a source that failed) is
 * shown on screen as a message box and stays until cleared: the screen is
 * never black without a reason.
 */
#pragma once

#include <SDL.h>
#include "ft-wall-scene.h"
#include "ft-wall-error.h"

G_BEGIN_DECLS

typedef enum {
  FT_WALL_VIEW_CITY = 0,
  FT_WALL_VIEW_DISTRICT,
  FT_WALL_VIEW_CHARTS,
  FT_WALL_N_VIEWS
} FtWallViewKind;

typedef struct {
  FtWallViewKind kind;
  double         cx, cy;     /* centre, Web Mercator 0..1 */
  double         zoom;       /* slippy-map zoom (fractional) */
  guint          district;   /* district views: which (0 busiest); G_MAXUINT none yet */
  char           title[64];
} FtWallView;

typedef struct {
  guint geometry_calls;      /* SDL_RenderGeometry calls in the last frame */
  guint rect_calls;          /* SDL_RenderFillRects calls (vehicles on the software renderer) */
  guint vehicles_drawn;
  guint vans_drawn;
  guint tiles_drawn;
  guint tiles_missing;       /* asked of the MBTiles file but not in it */
  guint tiles_cached;
  gboolean map_redrawn;      /* the map layer was drawn again (view changed) */
  double map_ms, vehicles_ms, overlay_ms;   /* time spent in the last frame */
} FtWallDrawStats;

typedef struct _FtWallDraw FtWallDraw;

/* renderer is borrowed and must outlive the FtWallDraw. */
FtWallDraw *ft_wall_draw_new          (SDL_Renderer *renderer);
void        ft_wall_draw_free         (FtWallDraw *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FtWallDraw, ft_wall_draw_free)

/* Opens the MBTiles file. On failure returns FALSE with the error, and the
 * map is drawn as plain land with the message on screen until tiles open. */
gboolean    ft_wall_draw_set_tiles    (FtWallDraw *d, const char *mbtiles_path, GError **error);
/* A message shown in a box on screen (NULL clears). Several independent
 * notices can be set by key ("tiles", "source", "controller"). */
void        ft_wall_draw_set_notice   (FtWallDraw *d, const char *key, const char *message);
/* The notices joined, for tests and stderr; NULL when none. Caller frees. */
char       *ft_wall_draw_dup_notices  (FtWallDraw *d);
/* Redraw KPI tiles and charts at most every interval_ms of wall time (the
 * wallboard: 250); 0 redraws them on every frame (render export). */
void        ft_wall_draw_set_overlay_interval (FtWallDraw *d, guint interval_ms);
/* A line under the KPI tiles: speed, paused, controls ("" none). */
void        ft_wall_draw_set_footer   (FtWallDraw *d, const char *text);

/* A view of the scene: city = the vehicles' extent fitted into w x h;
 * district i = the i-th busiest district, two zooms closer. */
void        ft_wall_view_city         (FtWallView *v, const FtWallScene *scene, int w, int h);
gboolean    ft_wall_view_district     (FtWallView *v, const FtWallScene *scene, guint i, int w, int h);
void        ft_wall_view_charts       (FtWallView *v);
/* A view computed afresh for every frame follows every vehicle at the edge
 * of the fleet, and each move would draw the map again. Keeps *shown while
 * fresh is the same kind of view within a few pixels of it (the city view's
 * margins still hold the fleet), and a district close-up while fresh is
 * the same district number (two districts about as busy would otherwise
 * swap places, and the close-up jump, as vehicles move); otherwise copies
 * fresh into *shown and returns TRUE. Start with shown->kind =
 * FT_WALL_N_VIEWS. */
gboolean    ft_wall_view_settle       (FtWallView *shown, const FtWallView *fresh, int w, int h);

/* Draws one frame into the renderer's target (w x h pixels); the caller
 * presents or reads it. FALSE with an error only when SDL refuses. */
gboolean    ft_wall_draw_frame        (FtWallDraw *d, const FtWallScene *scene, const FtWallView *view,
                                       int w, int h, GError **error);
void        ft_wall_draw_get_stats    (FtWallDraw *d, FtWallDrawStats *out);

/* Writes an ARGB8888 (or XRGB8888) pixel buffer as PNG to path (through
 * FtOutput: a target that is not a PNG this program wrote is refused unless
 * force). */
gboolean    ft_wall_write_png         (const guint8 *pixels, int w, int h, int pitch, const char *path,
                                       gboolean force, GError **error);
/* Writes PNG bytes straight to an open path (no FtOutput; for frames inside
 * an FtOutput folder). */
gboolean    ft_wall_write_png_raw     (const guint8 *pixels, int w, int h, int pitch, const char *path,
                                       GError **error);

G_END_DECLS
