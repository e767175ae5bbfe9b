// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe.Writer and the frames it loans. A loaned frame's arrays are writable and
// lie in the pool. Arrays that outlive publish() keep the slot on loan (the writer
// publishes with publishRetained), so the writer never recycles a slot that Python
// can still write to.
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "plane_arrays.h"
#include "shmframe/writer.h"

namespace py = pybind11;

namespace shmframe::python {
namespace {

/// The slot behind a Loan and its arrays: loaned, then (published while arrays over
/// it were still alive) retained until the last of them is gone.
struct SlotHold {
    LoanedFrame loan;
    RetainedFrame retained;
};

/// A slot on loan from a Writer, until published or dropped.
class Loan {
  public:
    Loan(LoanedFrame&& frame, const Format& format)
        : frame_(std::make_shared<SlotHold>(SlotHold{std::move(frame), {}})), format_(format) {}

    py::array plane(std::uint32_t index) const {
        const LoanedFrame& frame = held();
        return planeArray(format_, index, frame.plane(index), keepAlive(frame_), Access::Writable);
    }

    std::vector<py::array> planes() const {
        std::vector<py::array> arrays;
        for (std::uint32_t i = 0; i < format_.planeCount; ++i) {
            arrays.push_back(plane(i));
        }
        return arrays;
    }

    py::array buffer() const {
        return byteArray(held().bytes(), keepAlive(frame_), Access::Writable);
    }

    const Format& format() const { return format_; }
    bool done() const { return !frame_; }
    std::uint32_t userMetaCapacity() const { return std::uint32_t(held().userMeta().size()); }

    /// Hands the slot over for publish(); the Loan is done afterwards.
    std::shared_ptr<SlotHold> take() {
        held();
        return std::move(frame_);
    }

    void drop() { frame_.reset(); }

  private:
    const LoanedFrame& held() const {
        if (!frame_) {
            throw py::value_error("the loaned frame was already published or dropped");
        }
        return frame_->loan;
    }

    std::shared_ptr<SlotHold> frame_;
    Format format_;
};

std::uint64_t timestampFrom(const py::object& value, const char* name) {
    if (value.is_none()) {
        return kNoTimestamp;
    }
    const auto number = value.cast<std::int64_t>();
    if (number < 0) {
        raise(Error::make(Errc::InvalidArgument, std::string(name) + " must be at least 0 ns"));
    }
    return std::uint64_t(number);
}

class PyWriter {
  public:
    PyWriter(const std::string& feed, const Format& format, std::uint32_t slots,
             const std::string& policy, std::uint32_t leaseLimit, std::uint32_t userMetaSize,
             double losslessTimeout, const std::string& access) {
        WriterOptions options;
        options.slotCount = slots;
        const auto writerPolicy = writerPolicyFromString(policy);
        if (!writerPolicy) {
            raise(Error::make(Errc::InvalidArgument,
                              "policy must be 'never-block' or 'lossless', not '" + policy + "'"));
        }
        options.policy = *writerPolicy;
        options.leaseLimit = leaseLimit;
        options.userMetaSize = userMetaSize;
        if (!(losslessTimeout >= 0) || losslessTimeout > 3600) {
            raise(Error::make(Errc::InvalidArgument,
                              "lossless_timeout must be from 0 to 3600 seconds"));
        }
        options.losslessTimeout = std::chrono::milliseconds(std::llround(losslessTimeout * 1000.0));
        options.access = valueOrRaise(AccessPolicy::parse(access));
        std::optional<Result<Writer>> created;
        {
            py::gil_scoped_release unlocked;
            created.emplace(Writer::create(feed, format, std::move(options)));
        }
        writer_.emplace(valueOrRaise(std::move(*created)));
    }

    Loan loan() {
        Writer& writer = open();
        std::optional<Result<LoanedFrame>> loaned;
        {
            py::gil_scoped_release unlocked;  // lossless: may wait for a slow reader
            loaned.emplace(writer.loan());
        }
        LoanedFrame frame = valueOrRaise(std::move(*loaned));
        const Format format = frame.format();
        return Loan(std::move(frame), format);
    }

    void publish(Loan& loan, const py::object& pts, const py::object& dts,
                 const py::object& duration, std::uint32_t flags, const py::object& userMeta) {
        Writer& writer = open();
        FrameMeta meta;
        meta.pts = timestampFrom(pts, "pts");
        meta.dts = timestampFrom(dts, "dts");
        meta.duration = timestampFrom(duration, "duration");
        meta.flags = flags;
        if (!userMeta.is_none()) {
            // Any bytes-like object (bytes, bytearray, memoryview, numpy array).
            const std::string bytes =
                py::bytes(py::module_::import("builtins").attr("bytes")(userMeta));
            if (bytes.size() > loan.userMetaCapacity()) {
                raise(Error::make(Errc::InvalidArgument,
                                  "user_meta is " + std::to_string(bytes.size()) +
                                      " bytes; this writer's frames hold at most " +
                                      std::to_string(loan.userMetaCapacity()) +
                                      " (Writer(user_meta_size=...))"));
            }
            std::shared_ptr<SlotHold> frame = loan.take();
            if (!bytes.empty()) {
                std::memcpy(frame->loan.userMeta().data(), bytes.data(), bytes.size());
            }
            frame->loan.setUserMetaLength(std::uint32_t(bytes.size()));
            publishTaken(writer, std::move(frame), meta);
            return;
        }
        publishTaken(writer, loan.take(), meta);
    }

    void endOfStream() { checkOrRaise(open().endOfStream()); }

    void reconfigure(const Format& format) {
        Writer& writer = open();
        Result<void> result;
        {
            py::gil_scoped_release unlocked;
            result = writer.reconfigure(format);
        }
        checkOrRaise(result);
    }

    void close() {
        if (writer_) {
            py::gil_scoped_release unlocked;
            writer_->close();
            writer_.reset();
        }
    }

    bool closed() const { return !writer_; }
    Format format() { return open().format(); }
    WriterStats stats() { return open().stats(); }
    std::string feed() { return open().feedName(); }
    std::string socketPath() { return open().socketPath(); }

  private:
    Writer& open() {
        if (!writer_) {
            throw py::value_error("the writer is closed");
        }
        return *writer_;
    }

    static void publishTaken(Writer& writer, std::shared_ptr<SlotHold> frame,
                             const FrameMeta& meta) {
        // Arrays over the slot still alive (they share the hold): keep the slot on
        // loan until they are gone.
        if (frame.use_count() > 1) {
            frame->retained = valueOrRaise(writer.publishRetained(std::move(frame->loan), meta));
            return;
        }
        checkOrRaise(writer.publish(std::move(frame->loan), meta));
    }

    std::optional<Writer> writer_;
};

}  // namespace

void bindWriter(py::module_& module) {
    py::class_<WriterStats>(module, "WriterStats", "Counters of a writer session.")
        .def_readonly("published", &WriterStats::published)
        .def_readonly("loan_failures", &WriterStats::loanFailures)
        .def_readonly("revoked_leases", &WriterStats::revokedLeases)
        .def_readonly("readers", &WriterStats::readers)
        .def_readonly("readers_connected", &WriterStats::readersConnected)
        .def_readonly("readers_dropped", &WriterStats::readersDropped)
        .def_readonly("generation", &WriterStats::generation);

    py::class_<Loan>(module, "LoanedFrame", R"doc(
A writable slot of the writer's pool, from Writer.loan(). Fill its planes in
place, then Writer.publish() it. Dropped without publishing, the slot goes back
to the pool.

Do not write through its arrays after publish(): readers are looking at them.
(Arrays that outlive publish() keep the slot on loan, so the writer never
reuses it under them.)
)doc")
        .def("plane", &Loan::plane, py::arg("index") = 0,
             "Plane `index` as a writable numpy array over the slot (shapes as Frame.plane).")
        .def_property_readonly("planes", &Loan::planes)
        .def_property_readonly("buffer", &Loan::buffer,
                               "The whole slot as a writable 1-D uint8 array.")
        .def_property_readonly("format", &Loan::format)
        .def_property_readonly("done", &Loan::done, "True once published or dropped.")
        .def_property_readonly("user_meta_capacity", &Loan::userMetaCapacity)
        .def("drop", &Loan::drop, "Gives the slot back unpublished.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](Loan& self, const py::args&) {
            self.drop();
            return false;
        });

    py::class_<PyWriter>(module, "_Writer")
        .def(py::init<const std::string&, const Format&, std::uint32_t, const std::string&,
                      std::uint32_t, std::uint32_t, double, const std::string&>(),
             py::arg("feed"), py::arg("format"), py::arg("slots") = 4,
             py::arg("policy") = "never-block", py::arg("lease_limit") = 2,
             py::arg("user_meta_size") = 256, py::arg("lossless_timeout") = 1.0,
             py::arg("access") = "uid")
        .def("loan", &PyWriter::loan,
             "A free slot as a LoanedFrame. Raises WouldBlock when every slot is on loan "
             "(never-block), or waits for the slowest reader (lossless).")
        .def("publish", &PyWriter::publish, py::arg("frame"), py::kw_only(),
             py::arg("pts") = py::none(), py::arg("dts") = py::none(),
             py::arg("duration") = py::none(), py::arg("flags") = 0,
             py::arg("user_meta") = py::none(),
             "Publishes a loaned frame: readers see it from now on. Times are ns (None: "
             "no timestamp); user_meta is bytes-like, at most user_meta_size bytes.")
        .def("end_of_stream", &PyWriter::endOfStream,
             "Signals end of stream; publishing again starts a new stream.")
        .def("reconfigure", &PyWriter::reconfigure, py::arg("format"),
             "Switches to a new format (a new pool generation); readers follow.")
        .def("close", &PyWriter::close,
             "Ends the feed: end of stream, readers hung up, socket removed. Idempotent.")
        .def_property_readonly("closed", &PyWriter::closed)
        .def_property_readonly("format", &PyWriter::format)
        .def_property_readonly("stats", &PyWriter::stats)
        .def_property_readonly("feed", &PyWriter::feed)
        .def_property_readonly("socket_path", &PyWriter::socketPath);
}

}  // namespace shmframe::python
