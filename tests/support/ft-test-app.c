/* ft-test-app.c — helpers the desktop-app tests share (see ft-test-app.h):
 * spinning the main loop, closing the app, taking screenshots.
 */
#include "ft-config.h"
#include "ft-test-app.h"
#include "ft-screenshot.h"

#include <check.h>
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

GdkTexture *
ft_test_app_shot (GtkWidget *widget, const char *name)
{
  GdkTexture *shot = ft_screenshot_widget (widget);
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (shot == NULL && g_get_monotonic_time () < until)
    {
      ft_test_app_spin (0.05);
      shot = ft_screenshot_widget (widget);
    }
  ck_assert_msg (shot != NULL, "%s: the widget was not drawn within 5 s", name);
  g_autofree char *path = ft_test_app_shot_path (name);
  ck_assert_msg (gdk_texture_save_to_png (shot, path), "cannot save %s", path);
  return shot;
}
