/* fuzz-inspect-image.c — libFuzzer harness for the photo-loading path of
 * damage checks (ft_inspect_image_decode in src/inspect: the header sniffer
 * with its size limits, then OpenCV's JPEG/PNG decoders behind the C++
 * shim). An input is refused with an FT_INSPECT_ERROR naming it, or decodes
 * to an image within the limits that can be hashed and checked against
 * itself without an error.
 */
#include "fuzz-common.h"
#include "ft-inspect.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_init_glib ();
  static FtInspector *insp = NULL;
  if (insp == NULL)
    {
      ft_inspect_set_threads (1);
      insp = ft_inspector_new (NULL);
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(FtInspectImage) img = ft_inspect_image_decode (data, size, "fuzz.jpg", &error);
  if (img == NULL)
    {
      g_assert (error != NULL && error->domain == FT_INSPECT_ERROR);
      g_assert (g_str_has_prefix (error->message, "fuzz.jpg: "));
      fuzz_verbose ("inspect-image", error);
      return 0;
    }
  int w = ft_inspect_image_width (img), h = ft_inspect_image_height (img);
  g_assert (w >= 1 && h >= 1 && w <= FT_INSPECT_WORK_SIDE && h <= FT_INSPECT_WORK_SIDE);
  (void) ft_inspect_image_phash (img);
  if ((gint64) w * h <= 256 * 256)
    {
      FtInspectResult r;
      g_assert (ft_inspect_check (insp, img, img, &r, &error));
      g_assert (r.decision <= FT_INSPECT_DAMAGED);
    }
  fuzz_verbose ("inspect-image", NULL);
  return 0;
}
