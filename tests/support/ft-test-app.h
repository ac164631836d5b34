/* ft-test-app.h — helpers the desktop-app tests share (GTK; built with
 * -Dgui=true only): turn the main loop for a while, close the app, and
 * take and name screenshots in FT_SHOTS_DIR.
 */
#pragma once

#include "ft-application.h"
#include "ft-window.h"

G_BEGIN_DECLS

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

G_END_DECLS
