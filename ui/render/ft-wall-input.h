/* ft-wall-input.h — the wallboard's controls without a mouse: keys and
 * game-controller buttons map to the same actions, and the view rotation
 * (city, district close-ups, charts on a timer) is a small state machine
 * the tests drive without a display. A joystick SDL has no game-controller
 * mapping for is named in a message instead of being ignored silently.
 */
#pragma once

#include <SDL.h>
#include "ft-wall-draw.h"

G_BEGIN_DECLS

typedef enum {
  FT_WALL_ACT_NONE = 0,
  FT_WALL_ACT_NEXT_VIEW,
  FT_WALL_ACT_PREV_VIEW,
  FT_WALL_ACT_TOGGLE_ROTATE,   /* hold the current view / rotate again */
  FT_WALL_ACT_PAUSE,           /* pause the clock (scenario and replay) */
  FT_WALL_ACT_FASTER,
  FT_WALL_ACT_SLOWER,
  FT_WALL_ACT_VIEW_CITY,
  FT_WALL_ACT_VIEW_DISTRICT,
  FT_WALL_ACT_VIEW_CHARTS,
  FT_WALL_ACT_FULLSCREEN,
  FT_WALL_ACT_DISMISS,         /* clear the controller message */
  FT_WALL_ACT_QUIT,
} FtWallAction;

FtWallAction ft_wall_action_from_key    (SDL_Keycode key);
FtWallAction ft_wall_action_from_button (SDL_GameControllerButton button);
const char  *ft_wall_controls_help      (void);

/* The rotation: city → district 1 … n → charts → city, every period_ms of
 * wall time while rotating. */
typedef struct {
  guint  step;                /* 0 city, 1..n_districts, then charts */
  guint  n_districts;         /* close-ups in a cycle (default 3) */
  gint64 period_ms;           /* 0: never rotate */
  gint64 since_ms;            /* when the current view came up */
  gboolean rotating;
} FtWallRotation;

void     ft_wall_rotation_init  (FtWallRotation *r, gint64 period_ms, gint64 now_ms);
/* Moves on when the period has passed; TRUE when the view changed. */
gboolean ft_wall_rotation_tick  (FtWallRotation *r, gint64 now_ms);
/* Applies a view action (next, previous, direct, toggle); TRUE when handled. */
gboolean ft_wall_rotation_apply (FtWallRotation *r, FtWallAction a, gint64 now_ms);
/* The view for the current step. */
void     ft_wall_rotation_view  (const FtWallRotation *r, const FtWallScene *scene, int w, int h,
                                 FtWallView *out);

/* A joystick was plugged in (SDL device index): opens it as a game
 * controller when SDL knows its mapping and returns it; otherwise returns
 * NULL and *message says which device is unknown and how to map it.
 * *message is NULL when the device opened. */
SDL_GameController *ft_wall_open_controller (int device_index, char **message);

G_END_DECLS
