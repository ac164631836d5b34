/* ft-test-app.c — helpers the desktop-app tests share (see ft-test-app.h):
 * spinning the main loop, closing the app, naming screenshots.
 */
#include "ft-config.h"
#include "ft-test-app.h"

#include <glib/gstdio.h>

void
ft_test_app_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

void
ft_test_app_stop (FtApplication *app, FtWindow *win)
{
  gtk_window_destroy (GTK_WINDOW (win));
  ft_test_app_spin (0.1);
  g_object_unref (app);
}

char *
ft_test_app_shot_path (const char *name)
{
  const char *dir = g_getenv ("FT_SHOTS_DIR");
  if (dir)
    g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir ? dir : ".", name, NULL);
}
