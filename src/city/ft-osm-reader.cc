/* ft-osm-reader.cc — the C++ side of ft-osm-reader.h: walks the
 * BlobHeader/Blob frames of an OpenStreetMap PBF in memory, inflates each
 * blob and decodes it with libosmium's PBF block decoder, synchronously (no
 * reader threads), then calls the C callbacks per object. Every exception
 * (osmium, protozero, zlib, std) is caught here and turned into a message:
 * none crosses into C. Built with -fwrapv so that absurd delta-coded ids and
 * coordinates wrap instead of overflowing.
 */

/* A protozero precondition that bad data could break must not abort the
 * process: make it throw like the rest of the decoder. */
#include <stdexcept>
#define protozero_assert(x) \
  do { if (!(x)) throw std::runtime_error ("PBF structure error (" #x ")"); } while (0)

#include "ft-osm-reader.h"

#include <osmium/io/detail/pbf_decoder.hpp>
#include <osmium/osm/node.hpp>
#include <osmium/osm/relation.hpp>
#include <osmium/osm/way.hpp>
#include <protozero/pbf_message.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Frame {
  std::string type;
  size_t      data_off = 0, data_len = 0;
};

class Reader {
public:
  Reader (const uint8_t *data, size_t len, const FtOsmReaderCallbacks *cb, void *user)
    : m_data (reinterpret_cast<const char *> (data)), m_len (len), m_cb (cb), m_user (user) {}

  /* throws on any invalid input; returns false if a callback stopped it */
  bool run ()
  {
    size_t off = 0;
    for (m_block = 1; off < m_len; m_block++)
      {
        m_block_off = off;
        Frame f = read_frame (off);
        std::string blob (m_data + f.data_off, f.data_len);
        std::string inflated;
        if (m_block == 1)
          {
            if (f.type != "OSMHeader")
              throw std::runtime_error ("the first block is \"" + f.type + "\", not OSMHeader");
            osmium::io::detail::decode_header_block (osmium::io::detail::decode_blob (blob, inflated));
          }
        else if (f.type == "OSMData")
          {
            protozero::data_view block = osmium::io::detail::decode_blob (blob, inflated);
            check_string_table (block);
            osmium::io::detail::PBFPrimitiveBlockDecoder decoder {
              block, osmium::osm_entity_bits::nwr, osmium::io::read_meta::no };
            osmium::memory::Buffer buffer = decoder ();
            /* a full buffer moves its older part into a nested one */
            while (buffer.has_nested_buffers ())
              if (!deliver (*buffer.get_last_nested ()))
                return false;
            if (!deliver (buffer))
              return false;
          }
        else if (f.type != "OSMHeader")
          throw std::runtime_error ("unknown block type \"" + f.type + "\"");
        off = f.data_off + f.data_len;
      }
    if (m_block == 1)
      throw std::runtime_error ("empty file");
    return true;
  }

  std::string where () const
  {
    return "block " + std::to_string (m_block) + " at byte " + std::to_string (m_block_off);
  }

private:
  const char *m_data;
  size_t m_len;
  const FtOsmReaderCallbacks *m_cb;
  void *m_user;
  unsigned m_block = 0;
  size_t m_block_off = 0;
  std::vector<FtOsmTag> m_tags;
  std::vector<int64_t> m_refs;
  std::vector<FtOsmMember> m_members;

  Frame read_frame (size_t off) const
  {
    if (m_len - off < 4)
      throw std::runtime_error ("truncated: the file ends inside a block header");
    const auto *p = reinterpret_cast<const unsigned char *> (m_data + off);
    uint32_t hlen = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
    off += 4;
    if (hlen == 0 || hlen > (uint32_t) osmium::io::detail::max_blob_header_size)
      throw std::runtime_error ("bad block header size " + std::to_string (hlen));
    if (m_len - off < hlen)
      throw std::runtime_error ("truncated: the file ends inside a block header");
    Frame f;
    int64_t datasize = -1;
    protozero::pbf_message<osmium::io::detail::FileFormat::BlobHeader> h { m_data + off, hlen };
    while (h.next ())
      switch (h.tag_and_type ())
        {
        case protozero::tag_and_type (osmium::io::detail::FileFormat::BlobHeader::required_string_type,
                                      protozero::pbf_wire_type::length_delimited):
          {
            auto v = h.get_view ();
            f.type.assign (v.data (), std::min<size_t> (v.size (), 64));
          }
          break;
        case protozero::tag_and_type (osmium::io::detail::FileFormat::BlobHeader::required_int32_datasize,
                                      protozero::pbf_wire_type::varint):
          datasize = h.get_int32 ();
          break;
        default:
          h.skip ();
        }
    if (datasize <= 0 || (uint64_t) datasize > osmium::io::detail::max_uncompressed_blob_size)
      throw std::runtime_error ("bad blob size " + std::to_string (datasize));
    off += hlen;
    if (m_len - off < (size_t) datasize)
      throw std::runtime_error ("truncated: the block needs " + std::to_string (datasize) +
                                " bytes, the file has " + std::to_string (m_len - off) + " left");
    f.data_off = off;
    f.data_len = (size_t) datasize;
    return f;
  }

  /* libosmium keeps a tag as "key\0value\0" and finds the value and the
   * next tag with strlen: a NUL inside a string-table entry would make it
   * read past the block's buffer (found by fuzz-osm-pbf). Refuse those. */
  static void check_string_table (const protozero::data_view &block)
  {
    protozero::pbf_message<osmium::io::detail::OSMFormat::PrimitiveBlock> pb { block };
    while (pb.next (osmium::io::detail::OSMFormat::PrimitiveBlock::required_StringTable_stringtable,
                    protozero::pbf_wire_type::length_delimited))
      {
        protozero::pbf_message<osmium::io::detail::OSMFormat::StringTable> st { pb.get_view () };
        for (size_t i = 0; st.next (osmium::io::detail::OSMFormat::StringTable::repeated_bytes_s,
                                    protozero::pbf_wire_type::length_delimited); i++)
          {
            protozero::data_view v = st.get_view ();
            if (std::memchr (v.data (), '\0', v.size ()) != nullptr)
              throw std::runtime_error ("string table entry " + std::to_string (i) + " holds a NUL byte");
          }
      }
  }

  void collect_tags (const osmium::TagList &tl)
  {
    m_tags.clear ();
    for (const osmium::Tag &t : tl)
      m_tags.push_back (FtOsmTag { t.key (), t.value () });
  }

  bool deliver (const osmium::memory::Buffer &buffer)
  {
    for (const osmium::OSMEntity &e : buffer)
      switch (e.type ())
        {
        case osmium::item_type::node:
          {
            const auto &n = static_cast<const osmium::Node &> (e);
            if (!n.location ().valid ())
              throw std::runtime_error ("node " + std::to_string (n.id ()) + " has no valid position");
            if (m_cb->node == nullptr)
              break;
            collect_tags (n.tags ());
            if (m_cb->node (m_user, n.id (), n.location ().lat_without_check (),
                            n.location ().lon_without_check (), m_tags.data (), m_tags.size ()))
              return false;
          }
          break;
        case osmium::item_type::way:
          {
            if (m_cb->way == nullptr)
              break;
            const auto &w = static_cast<const osmium::Way &> (e);
            collect_tags (w.tags ());
            m_refs.clear ();
            for (const osmium::NodeRef &r : w.nodes ())
              m_refs.push_back (r.ref ());
            if (m_cb->way (m_user, w.id (), m_refs.data (), m_refs.size (), m_tags.data (), m_tags.size ()))
              return false;
          }
          break;
        case osmium::item_type::relation:
          {
            if (m_cb->relation == nullptr)
              break;
            const auto &r = static_cast<const osmium::Relation &> (e);
            collect_tags (r.tags ());
            m_members.clear ();
            for (const osmium::RelationMember &m : r.members ())
              {
                FtOsmMemberType t = m.type () == osmium::item_type::node ? FT_OSM_MEMBER_NODE
                                    : m.type () == osmium::item_type::way ? FT_OSM_MEMBER_WAY
                                    : FT_OSM_MEMBER_RELATION;
                m_members.push_back (FtOsmMember { t, m.ref (), m.role () });
              }
            if (m_cb->relation (m_user, r.id (), m_members.data (), m_members.size (),
                                m_tags.data (), m_tags.size ()))
              return false;
          }
          break;
        default:
          break;
        }
    return true;
  }
};

char *
dup_message (const std::string &s)
{
  char *m = static_cast<char *> (std::malloc (s.size () + 1));
  if (m != nullptr)
    std::memcpy (m, s.c_str (), s.size () + 1);
  return m;
}

} // namespace

extern "C" FtOsmReadResult
ft_osm_reader_read_pbf (const uint8_t *data, size_t len, const FtOsmReaderCallbacks *callbacks,
                        void *user, char **error_out)
{
  static const FtOsmReaderCallbacks none = { nullptr, nullptr, nullptr };
  if (error_out != nullptr)
    *error_out = nullptr;
  Reader r (data, data ? len : 0, callbacks ? callbacks : &none, user);
  std::string msg;
  try
    {
      return r.run () ? FT_OSM_READ_OK : FT_OSM_READ_STOPPED;
    }
  catch (const std::bad_alloc &)
    {
      msg = "out of memory";
    }
  catch (const std::exception &e)
    {
      msg = e.what ();
    }
  catch (...)
    {
      msg = "unknown error";
    }
  if (error_out != nullptr)
    {
      try
        {
          *error_out = dup_message (msg == "empty file" ? msg : r.where () + ": " + msg);
        }
      catch (...)
        {
          *error_out = nullptr;
        }
    }
  return FT_OSM_READ_INVALID;
}
