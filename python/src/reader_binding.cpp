// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe.Reader and the frames it returns. A Frame's arrays lie in the writer's
// memory, mapped read-only. Each array's base object holds the frame's lease, so
// pixels seen through an array are never recycled under it: the lease ends when the
// Frame is released (release(), `with`, garbage collection) AND no array over it
// is left.
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "plane_arrays.h"
#include "shmframe/reader.h"

namespace py = pybind11;

namespace shmframe::python {
namespace {

using namespace std::chrono_literals;

// None for "no timestamp", as Python users expect.
py::object timestamp(std::uint64_t value) {
    if (value == kNoTimestamp) {
        return py::none();
    }
    return py::int_(value);
}

/// One frame from Reader.next(): a read-only view of a published slot.
class ReadFrame {
  public:
    explicit ReadFrame(Frame&& frame)
        : frame_(std::make_shared<Frame>(std::move(frame))),
          format_(frame_->format()),
          meta_(frame_->meta()) {}

    py::array plane(std::uint32_t index) const {
        const Frame& frame = held();
        return planeArray(format_, index, frame.plane(index), keepAlive(frame_), Access::ReadOnly);
    }

    std::vector<py::array> planes() const {
        std::vector<py::array> arrays;
        for (std::uint32_t i = 0; i < format_.planeCount; ++i) {
            arrays.push_back(plane(i));
        }
        return arrays;
    }

    py::array buffer() const {
        return byteArray(held().bytes(), keepAlive(frame_), Access::ReadOnly);
    }

    py::bytes userMeta() const {
        const auto bytes = held().userMeta();
        return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }

    const Format& format() const { return format_; }
    const FrameMeta& meta() const { return meta_; }
    bool released() const { return !frame_; }
    bool isCopy() const { return held().isCopy(); }
    bool leaseIntact() const { return held().leaseIntact(); }
    std::uint64_t writerSession() const { return held().writerSession(); }
    std::uint32_t generation() const { return held().generation(); }

    // Arrays still out keep their own reference to the lease.
    void release() { frame_.reset(); }

  private:
    const Frame& held() const {
        if (!frame_) {
            throw py::value_error("the frame was released");
        }
        return *frame_;
    }

    std::shared_ptr<Frame> frame_;
    Format format_;
    FrameMeta meta_;
};

/// The Python Reader: a shmframe::Reader used by one thread at a time.
class PyReader {
  public:
    PyReader(const std::string& feed, const std::string& mode, bool waitForWriter, bool reconnect,
             bool spin, const std::string& clientName, const std::optional<std::string>& wait) {
        ReaderOptions options;
        const auto readMode = readModeFromString(mode);
        if (!readMode) {
            raise(Error::make(Errc::InvalidArgument,
                              "mode must be 'latest' or 'sequential', not '" + mode + "'"));
        }
        options.mode = *readMode;
        options.wait = spin ? WaitMode::Spin : WaitMode::Block;
        if (wait) {
            const auto waitMode = waitModeFromString(*wait);
            if (!waitMode || (spin && *waitMode != WaitMode::Spin)) {
                raise(Error::make(
                    Errc::InvalidArgument,
                    waitMode ? "spin=True contradicts wait='" + *wait + "'"
                             : "wait must be 'block', 'spin' or 'paced', not '" + *wait + "'"));
            }
            options.wait = *waitMode;
        }
        options.waitForWriter = waitForWriter;
        options.reconnect = reconnect;
        options.clientName = clientName;
        std::optional<Result<Reader>> opened;
        {
            py::gil_scoped_release unlocked;
            opened.emplace(Reader::open(feed, std::move(options)));
        }
        reader_.emplace(valueOrRaise(std::move(*opened)));
    }

    ReadFrame next(const py::object& timeout) {
        std::optional<double> seconds;
        if (!timeout.is_none()) {
            seconds = timeout.cast<double>();
            if (!(*seconds >= 0) || std::isinf(*seconds)) {  // NaN too
                if (std::isinf(*seconds) && *seconds > 0) {
                    seconds.reset();
                } else {
                    raise(Error::make(Errc::InvalidArgument,
                                      "timeout must be None or at least 0 seconds"));
                }
            }
        }
        std::unique_lock busy(busy_, std::try_to_lock);
        if (!busy) {
            throw std::runtime_error("Reader.next() is already running in another thread");
        }
        Reader& reader = open();
        // Long waits are cut into slices so that Ctrl-C (a signal handler in Python)
        // is seen; a frame wakes the wait at once whatever the slice.
        constexpr auto kSlice = std::chrono::nanoseconds(200ms);
        const auto total = seconds ? std::chrono::nanoseconds(std::llround(*seconds * 1e9))
                                   : std::chrono::nanoseconds::max();
        const auto start = std::chrono::steady_clock::now();
        while (true) {
            const auto waited = std::chrono::steady_clock::now() - start;
            const auto remaining = total == std::chrono::nanoseconds::max()
                                       ? total
                                       : std::max(total - waited, std::chrono::nanoseconds(0));
            const auto slice = std::min(remaining, kSlice);
            std::optional<Result<Frame>> result;
            {
                py::gil_scoped_release unlocked;
                result.emplace(reader.next(slice));
            }
            if (*result) {
                return ReadFrame(std::move(**result));
            }
            const Error& error = result->error();
            if (error.code != Errc::Timeout || slice == remaining) {
                if (error.code == Errc::Timeout && seconds && remaining != total) {
                    raise(Error::make(Errc::Timeout,
                                      "no frame from feed '" + reader.feedName() + "' within " +
                                          py::str(timeout).cast<std::string>() + " s"));
                }
                raise(error);
            }
            if (PyErr_CheckSignals() != 0) {
                throw py::error_already_set();
            }
        }
    }

    int fileno() { return open().fd(); }
    void interrupt() { open().interrupt(); }

    void close() {
        if (!reader_) {
            return;
        }
        reader_->interrupt();
        py::gil_scoped_release unlocked;
        std::lock_guard busy(busy_);
        reader_.reset();
    }

    bool closed() const { return !reader_; }
    std::string state() { return std::string(toString(open().state())); }
    std::optional<Format> format() { return open().format(); }
    ReaderStats stats() { return open().stats(); }
    std::optional<WriterInfo> writer() { return open().writer(); }
    std::string feed() { return open().feedName(); }
    std::string socketPath() { return open().socketPath(); }

  private:
    Reader& open() {
        if (!reader_) {
            throw py::value_error("the reader is closed");
        }
        return *reader_;
    }

    std::optional<Reader> reader_;
    std::mutex busy_;
};

}  // namespace

void bindReader(py::module_& module) {
    py::class_<FrameMeta>(module, "FrameMeta", "What the writer said about a frame.")
        .def_readonly("sequence", &FrameMeta::sequence,
                      "1, 2, 3 ... for each writer session (stamped by publish).")
        .def_readonly("publish_time_ns", &FrameMeta::publishTimeNs,
                      "CLOCK_MONOTONIC ns at publication (see shmframe.monotonic_ns()).")
        .def_readonly("flags", &FrameMeta::flags, "FLAG_* bits.")
        .def_property_readonly(
            "pts", [](const FrameMeta& m) { return timestamp(m.pts); }, "ns, or None.")
        .def_property_readonly(
            "dts", [](const FrameMeta& m) { return timestamp(m.dts); }, "ns, or None.")
        .def_property_readonly(
            "duration", [](const FrameMeta& m) { return timestamp(m.duration); }, "ns, or None.")
        .def("__repr__", [](const FrameMeta& m) {
            auto text = [](std::uint64_t v) {
                return v == kNoTimestamp ? std::string("None") : std::to_string(v);
            };
            return "FrameMeta(sequence=" + std::to_string(m.sequence) + ", pts=" + text(m.pts) +
                   ", dts=" + text(m.dts) + ", duration=" + text(m.duration) +
                   ", flags=" + std::to_string(m.flags) +
                   ", publish_time_ns=" + std::to_string(m.publishTimeNs) + ")";
        });
    module.attr("FLAG_DISCONT") = std::uint32_t{kFrameFlagDiscont};
    module.attr("FLAG_KEYFRAME") = std::uint32_t{kFrameFlagKeyframe};
    module.attr("FLAG_GAP") = std::uint32_t{kFrameFlagGap};
    module.attr("FLAG_INTERLACED") = std::uint32_t{kFrameFlagInterlaced};

    py::class_<ReaderStats>(module, "ReaderStats", "Counters of one reader.")
        .def_readonly("received", &ReaderStats::received)
        .def_readonly("skipped", &ReaderStats::skipped)
        .def_readonly("gaps", &ReaderStats::gaps)
        .def_readonly("copies", &ReaderStats::copies)
        .def_readonly("revoked", &ReaderStats::revoked)
        .def_readonly("reconnects", &ReaderStats::reconnects)
        .def_readonly("writer_gone", &ReaderStats::writerGone)
        .def_readonly("format_changes", &ReaderStats::formatChanges)
        .def_readonly("end_of_streams", &ReaderStats::endOfStreams)
        .def_readonly("paced_hits", &ReaderStats::pacedHits)
        .def_readonly("paced_misses", &ReaderStats::pacedMisses);

    py::class_<WriterInfo>(module, "WriterInfo", "The writer a reader is connected to.")
        .def_readonly("pid", &WriterInfo::pid)
        .def_readonly("session_id", &WriterInfo::sessionId)
        .def_readonly("generation", &WriterInfo::generation)
        .def_property_readonly("policy",
                               [](const WriterInfo& w) { return std::string(toString(w.policy)); })
        .def_readonly("slot_count", &WriterInfo::slotCount)
        .def_readonly("lease_limit", &WriterInfo::leaseLimit)
        .def_readonly("published", &WriterInfo::published)
        .def_readonly("readers", &WriterInfo::readers);

    py::class_<ReadFrame>(module, "Frame", R"doc(
A published frame, read-only, where the writer put it (no copy).

Use it as a context manager, or call release(), so the writer can reuse the slot:

    with reader.next(timeout=1.0) as frame:
        image = frame.plane(0)          # numpy array over the shared slot

The arrays hold the frame's lease through their base object: an array that
outlives the frame keeps showing this frame's pixels (the slot is not recycled
while any array over it lives), and a released Frame refuses new arrays.
)doc")
        .def("plane", &ReadFrame::plane, py::arg("index") = 0,
             "Plane `index` as a read-only numpy array: H x W x C for packed RGB, H x W for "
             "GRAY and each YUV plane, H/2 x W/2 x 2 for NV12's UV plane, H x W x 2 for YUY2 "
             "and UYVY. Strides are the format's (padded rows included).")
        .def_property_readonly("planes", &ReadFrame::planes, "Every plane, as plane() gives it.")
        .def_property_readonly("buffer", &ReadFrame::buffer,
                               "The whole frame as a read-only 1-D uint8 array (frame_size bytes).")
        .def_property_readonly("user_meta", &ReadFrame::userMeta,
                               "The writer's user metadata for this frame (bytes, a copy).")
        .def_property_readonly("meta", &ReadFrame::meta)
        .def_property_readonly("format", &ReadFrame::format)
        .def_property_readonly("released", &ReadFrame::released)
        .def_property_readonly("is_copy", &ReadFrame::isCopy,
                               "True when the reader was over its lease limit and got a private "
                               "copy instead of a view of the slot.")
        .def_property_readonly("lease_intact", &ReadFrame::leaseIntact,
                               "False if the writer took the lease back (every slot pinned, "
                               "or it let the reader go); the pixels may then have been "
                               "overwritten.")
        .def_property_readonly("writer_session", &ReadFrame::writerSession)
        .def_property_readonly("generation", &ReadFrame::generation)
        .def("release", &ReadFrame::release,
             "Gives the slot back once no array over it is left. Idempotent.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__",
             [](ReadFrame& self, const py::args&) {
                 self.release();
                 return false;
             })
        .def("__repr__", [](const ReadFrame& self) {
            return "<shmframe.Frame " + self.format().describe() +
                   " sequence=" + std::to_string(self.meta().sequence) +
                   (self.released() ? " released>" : ">");
        });

    py::class_<PyReader>(module, "_Reader")
        .def(py::init<const std::string&, const std::string&, bool, bool, bool, const std::string&,
                      const std::optional<std::string>&>(),
             py::arg("feed"), py::arg("mode") = "latest", py::arg("wait_for_writer") = false,
             py::arg("reconnect") = true, py::arg("spin") = false,
             py::arg("client_name") = "python", py::arg("wait") = py::none())
        .def("next", &PyReader::next, py::arg("timeout") = py::none())
        .def("fileno", &PyReader::fileno)
        .def("interrupt", &PyReader::interrupt)
        .def("close", &PyReader::close)
        .def_property_readonly("closed", &PyReader::closed)
        .def_property_readonly("state", &PyReader::state)
        .def_property_readonly("format", &PyReader::format)
        .def_property_readonly("stats", &PyReader::stats)
        .def_property_readonly("writer", &PyReader::writer)
        .def_property_readonly("feed", &PyReader::feed)
        .def_property_readonly("socket_path", &PyReader::socketPath);
}

}  // namespace shmframe::python
