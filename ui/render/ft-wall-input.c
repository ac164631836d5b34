/* ft-wall-input.c — keys, controller buttons, view rotation and
 * controller hot-plug for the wallboard.
 */
#include "ft-wall-input.h"

FtWallAction
ft_wall_action_from_key (SDL_Keycode key)
{
  switch (key)
    {
    case SDLK_RIGHT: case SDLK_TAB: case SDLK_n: return FT_WALL_ACT_NEXT_VIEW;
    case SDLK_LEFT: case SDLK_BACKSPACE:         return FT_WALL_ACT_PREV_VIEW;
    case SDLK_r:                                 return FT_WALL_ACT_TOGGLE_ROTATE;
    case SDLK_SPACE: case SDLK_p:                return FT_WALL_ACT_PAUSE;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS: case SDLK_UP:   return FT_WALL_ACT_FASTER;
    case SDLK_MINUS: case SDLK_KP_MINUS: case SDLK_DOWN:                 return FT_WALL_ACT_SLOWER;
    case SDLK_1: case SDLK_c:                    return FT_WALL_ACT_VIEW_CITY;
    case SDLK_2: case SDLK_d:                    return FT_WALL_ACT_VIEW_DISTRICT;
    case SDLK_3: case SDLK_k:                    return FT_WALL_ACT_VIEW_CHARTS;
    case SDLK_f: case SDLK_F11:                  return FT_WALL_ACT_FULLSCREEN;
    case SDLK_RETURN:                            return FT_WALL_ACT_DISMISS;
    case SDLK_ESCAPE: case SDLK_q:               return FT_WALL_ACT_QUIT;
    default:                                     return FT_WALL_ACT_NONE;
    }
}

FtWallAction
ft_wall_action_from_button (SDL_GameControllerButton button)
{
  switch (button)
    {
    case SDL_CONTROLLER_BUTTON_DPAD_RIGHT: case SDL_CONTROLLER_BUTTON_RIGHTSHOULDER: return FT_WALL_ACT_NEXT_VIEW;
    case SDL_CONTROLLER_BUTTON_DPAD_LEFT: case SDL_CONTROLLER_BUTTON_LEFTSHOULDER:   return FT_WALL_ACT_PREV_VIEW;
    case SDL_CONTROLLER_BUTTON_DPAD_UP:    return FT_WALL_ACT_FASTER;
    case SDL_CONTROLLER_BUTTON_DPAD_DOWN:  return FT_WALL_ACT_SLOWER;
    case SDL_CONTROLLER_BUTTON_A:          return FT_WALL_ACT_PAUSE;
    case SDL_CONTROLLER_BUTTON_X:          return FT_WALL_ACT_TOGGLE_ROTATE;
    case SDL_CONTROLLER_BUTTON_Y:          return FT_WALL_ACT_VIEW_CHARTS;
    case SDL_CONTROLLER_BUTTON_B:          return FT_WALL_ACT_DISMISS;
    case SDL_CONTROLLER_BUTTON_BACK:       return FT_WALL_ACT_FULLSCREEN;
    case SDL_CONTROLLER_BUTTON_GUIDE:      return FT_WALL_ACT_QUIT;
    default:                               return FT_WALL_ACT_NONE;
    }
}

const char *
ft_wall_controls_help (void)
{
  return "←/→ or d-pad: view · 1/2/3: city/district/charts · R or X: hold/rotate · "
         "Space or A: pause · +/− or d-pad ↑/↓: speed · F: full screen · Q/Esc: quit";
}

void
ft_wall_rotation_init (FtWallRotation *r, gint64 period_ms, gint64 now_ms)
{
  r->step = 0;
  r->n_districts = 3;
  r->period_ms = period_ms;
  r->since_ms = now_ms;
  r->rotating = period_ms > 0;
}

static guint
n_steps (const FtWallRotation *r)
{
  return r->n_districts + 2;
}

gboolean
ft_wall_rotation_tick (FtWallRotation *r, gint64 now_ms)
{
  if (!r->rotating || r->period_ms <= 0 || now_ms - r->since_ms < r->period_ms)
    return FALSE;
  r->step = (r->step + 1) % n_steps (r);
  r->since_ms = now_ms;
  return TRUE;
}

gboolean
ft_wall_rotation_apply (FtWallRotation *r, FtWallAction a, gint64 now_ms)
{
  switch (a)
    {
    case FT_WALL_ACT_NEXT_VIEW:     r->step = (r->step + 1) % n_steps (r); break;
    case FT_WALL_ACT_PREV_VIEW:     r->step = (r->step + n_steps (r) - 1) % n_steps (r); break;
    case FT_WALL_ACT_VIEW_CITY:     r->step = 0; break;
    case FT_WALL_ACT_VIEW_DISTRICT: r->step = r->step >= 1 && r->step <= r->n_districts
                                              ? r->step % r->n_districts + 1 : 1; break;
    case FT_WALL_ACT_VIEW_CHARTS:   r->step = r->n_districts + 1; break;
    case FT_WALL_ACT_TOGGLE_ROTATE: r->rotating = !r->rotating && r->period_ms > 0; break;
    default:                        return FALSE;
    }
  r->since_ms = now_ms;
  return TRUE;
}

void
ft_wall_rotation_view (const FtWallRotation *r, const FtWallScene *scene, int w, int h, FtWallView *out)
{
  if (r->step == 0)
    ft_wall_view_city (out, scene, w, h);
  else if (r->step <= r->n_districts)
    ft_wall_view_district (out, scene, r->step - 1, w, h);
  else
    ft_wall_view_charts (out);
}

SDL_GameController *
ft_wall_open_controller (int device_index, char **message)
{
  *message = NULL;
  const char *name = SDL_JoystickNameForIndex (device_index);
  char guid[64];
  SDL_JoystickGetGUIDString (SDL_JoystickGetDeviceGUID (device_index), guid, sizeof guid);
  if (!SDL_IsGameController (device_index))
    {
      *message = g_strdup_printf ("Controller “%s” (GUID %s) is not a known game controller and is ignored: "
                                  "add a mapping with SDL_GAMECONTROLLERCONFIG (see SDL's gamecontrollerdb) "
                                  "or use the keyboard",
                                  name ? name : "unnamed", guid);
      return NULL;
    }
  SDL_GameController *gc = SDL_GameControllerOpen (device_index);
  if (gc == NULL)
    *message = g_strdup_printf ("Controller “%s” (GUID %s) cannot be opened: %s", name ? name : "unnamed", guid,
                                SDL_GetError ());
  return gc;
}
