/* ft-test-app.h — helpers the desktop-app tests share (GTK; built with
 * -Dgui=true only): turn the main loop for a while, close the app, and
 * take and name screenshots in FT_SHOTS_DIR, and send real clicks and
 * keys through XTEST.
 */
#pragma once

#include "ft-application.h"
#include "ft-window.h"

G_BEGIN_DECLS

/* The app the tests drive: GTK initialised, the application registered, a
 * session with a scenario loaded and its main window presented. */
typedef struct {
  FtApplication *app;
  FtSession     *session;
  FtWindow      *win;
} FtTestApp;

/* Starts the app on the scenario at path (NULL: the source tree's
 * scenarios/demo-city-phase1.scenario), the session recording into
 * record_dir when not NULL (as the app does: the run's store), the window
 * width x height (0: its default), and spins the main loop 0.5 s. Fails
 * the test, with the reason, when anything does not start. */
FtTestApp *ft_test_app_start  (const char *path, const char *record_dir, int width, int height);
/* Closes the window, drops the app and the session, frees t. */
void       ft_test_app_finish (FtTestApp *t);

/* Iterates the default main context for `seconds` of wall time. */
void  ft_test_app_spin      (double seconds);
/* Destroys win, lets the main loop settle, and drops app. */
void  ft_test_app_stop      (FtApplication *app, FtWindow *win);
/* FT_SHOTS_DIR/name (created if needed), or ./name without it. */
char *ft_test_app_shot_path (const char *name);
/* Renders widget, spinning the main loop up to 5 s until it is mapped and
 * drawn, and saves it as ft_test_app_shot_path (name). Fails the test if
 * it never draws or cannot be saved. Returns the texture. */
GdkTexture *ft_test_app_shot (GtkWidget *widget, const char *name);

/* The first mapped button labelled `label` under root (depth first), or NULL. */
GtkWidget  *ft_test_app_find_button (GtkWidget *root, const char *label);
/* The first check button labelled `label` under root (depth first), or NULL. */
GtkWidget  *ft_test_app_find_check  (GtkWidget *root, const char *label);
/* The last open toplevel window of type (e.g. FT_TYPE_REVIEW_WINDOW), or NULL. */
GtkWidget  *ft_test_app_find_window (GType type);
/* Clicks the middle of a button as a person would: it must be on screen
 * (focused first, so a scrolled pane brings it into view) and sensitive;
 * spins 0.2 s afterwards. */
void        ft_test_app_press       (GtkWidget *button);

/* Real input through the X server's XTEST extension (Xvfb), so GTK's own
 * gestures, focus and shortcuts handle it: focus a window; click, or
 * press, drag and release, at widget coordinates with modifiers held; press
 * and release a key (a GDK keyval, which is the X keysym). Each spins the
 * main loop a little afterwards. */
void  ft_test_app_focus (GtkWindow *window);
void  ft_test_app_click (GtkWidget *widget, double x, double y, GdkModifierType mods);
void  ft_test_app_drag  (GtkWidget *widget, double x0, double y0, double x1, double y1,
                         GdkModifierType mods);
void  ft_test_app_key   (guint keyval, GdkModifierType mods);

G_END_DECLS
