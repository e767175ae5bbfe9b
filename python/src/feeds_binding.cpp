// SPDX-License-Identifier: LGPL-2.1-or-later
// Finding feeds: shmframe.list_feeds(), probe(), FeedWatch, the feed directory.
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"
#include "shmframe/clock.h"
#include "shmframe/feed.h"
#include "shmframe/feed_watch.h"

namespace py = pybind11;

namespace shmframe::python {

void bindFeeds(py::module_& module) {
    // What a reader reports of itself: None for a reader that does not.
    const auto reported = [](std::uint64_t FeedReader::*field) {
        return [field](const FeedReader& reader) -> std::optional<std::uint64_t> {
            if (!reader.reportsProgress) {
                return std::nullopt;
            }
            return reader.*field;
        };
    };
    py::class_<FeedReader>(module, "FeedReader", "One reader of a feed, as its writer sees it.")
        .def_readonly("id", &FeedReader::id, "The writer's number for it, as in its log.")
        .def_readonly("pid", &FeedReader::pid)
        .def_readonly("uid", &FeedReader::uid)
        .def_readonly("client_name", &FeedReader::clientName,
                      "What the reader calls itself (printable ASCII; other bytes show as '?').")
        .def_property_readonly(
            "mode",
            [](const FeedReader& reader) {
                return std::string(reader.sequential ? "sequential" : "latest");
            },
            "'sequential' or 'latest'.")
        .def_readonly("lease_limit", &FeedReader::leaseLimit)
        .def_readonly("leases_held", &FeedReader::leasesHeld)
        .def_readonly("revoked_leases", &FeedReader::revokedLeases)
        .def_property_readonly("lag", reported(&FeedReader::lag),
                               "Frames published since the last one it took (None if it does "
                               "not report it; what a reader reports describes only itself).")
        .def_property_readonly("received", reported(&FeedReader::received),
                               "Frames it took on this connection (None if not reported).")
        .def_property_readonly("drops", reported(&FeedReader::drops),
                               "Frames it never got (None if not reported).")
        .def("__repr__", [](const FeedReader& reader) {
            return "<shmframe.FeedReader " + std::to_string(reader.id) + " pid " +
                   std::to_string(reader.pid) + " '" + reader.clientName + "'>";
        });

    py::class_<FeedInfo>(module, "FeedInfo", "What a probe of a live feed tells.")
        .def_readonly("name", &FeedInfo::name)
        .def_readonly("socket_path", &FeedInfo::socketPath)
        .def_readonly("format", &FeedInfo::format)
        .def_readonly("writer_pid", &FeedInfo::writerPid)
        .def_readonly("slot_count", &FeedInfo::slotCount)
        .def_readonly("lease_limit", &FeedInfo::leaseLimit)
        .def_readonly("generation", &FeedInfo::generation)
        .def_readonly("policy", &FeedInfo::policy)
        .def_readonly("published", &FeedInfo::published)
        .def_readonly("readers", &FeedInfo::readers)
        .def_readonly("last_publish_ns", &FeedInfo::lastPublishNs)
        .def_readonly("end_of_stream", &FeedInfo::endOfStream)
        .def_readonly("pool_bytes", &FeedInfo::poolBytes)
        .def_readonly("responding", &FeedInfo::responding,
                      "False for a writer that holds its feed but does not answer (stopped or "
                      "hung): only name, socket_path and writer_pid are known then.")
        .def_property_readonly(
            "reader_table",
            [](const FeedInfo& info) -> std::optional<std::vector<FeedReader>> {
                if (!info.readerTableKnown) {
                    return std::nullopt;
                }
                return info.readerTable;
            },
            "The readers connected now (a list of FeedReader, at most 256; readers counts them "
            "all), or None when the writer predates reader tables.")
        .def("__repr__", [](const FeedInfo& info) {
            return "<shmframe.FeedInfo " + info.name + ": " + info.format.describe() +
                   ", writer pid " + std::to_string(info.writerPid) + ">";
        });

    module.def(
        "list_feeds",
        [] {
            py::gil_scoped_release unlocked;
            return listFeeds();
        },
        "The live feeds of the feed directory, sorted by name (a list of FeedInfo).");
    module.def(
        "probe",
        [](const std::string& feed) {
            std::optional<Result<FeedInfo>> info;
            {
                py::gil_scoped_release unlocked;
                info.emplace(probeFeed(feed));
            }
            return valueOrRaise(std::move(*info));
        },
        py::arg("feed"),
        "Asks a feed's writer what it publishes (FeedInfo), without becoming a reader. "
        "Raises NoWriter, InvalidFeedName, PermissionDenied, ...");
    module.def("feed_directory", &feedDirectory,
               "Where feeds live: $SHMFRAME_DIR, else $XDG_RUNTIME_DIR/shmframe, else "
               "/tmp/shmframe-<uid>.");
    module.def("monotonic_ns", &monotonicNs,
               "CLOCK_MONOTONIC now, in ns: the clock of FrameMeta.publish_time_ns.");

    py::class_<FeedEvent>(module, "FeedEvent", "A feed that appeared, changed or went.")
        .def_property_readonly(
            "kind", [](const FeedEvent& event) { return std::string(toString(event.kind)); },
            "'appeared', 'changed' or 'gone'.")
        .def_readonly("feed", &FeedEvent::feed)
        .def("__repr__", [](const FeedEvent& event) {
            return "<shmframe.FeedEvent " + std::string(toString(event.kind)) + " " +
                   event.feed.name + ">";
        });

    py::class_<FeedWatch>(module, "FeedWatch", R"doc(
Watches the feed directory. fileno() becomes readable when update() has something
to look at (for selectors or asyncio's add_reader); update() returns the changes.

    watch = shmframe.FeedWatch()
    for event in watch.update():      # the first call reports every live feed
        print(event.kind, event.feed.name)
)doc")
        .def(py::init([](double rescanInterval) {
                 if (!(rescanInterval > 0) || rescanInterval > 3600) {
                     raise(Error::make(Errc::InvalidArgument,
                                       "rescan_interval must be from 0 to 3600 seconds"));
                 }
                 FeedWatchOptions options;
                 options.rescanInterval =
                     std::chrono::milliseconds(std::max(1L, std::lround(rescanInterval * 1000)));
                 return valueOrRaise(FeedWatch::open(options));
             }),
             py::arg("rescan_interval") = 1.0)
        .def("fileno", &FeedWatch::fd)
        .def(
            "update",
            [](FeedWatch& watch) {
                py::gil_scoped_release unlocked;
                return watch.update();
            },
            "Rescans and returns what changed since the last call (a list of FeedEvent).")
        .def_property_readonly("feeds", &FeedWatch::feeds,
                               "The live feeds as of the last update().")
        .def_property_readonly("directory", &FeedWatch::directory);
}

}  // namespace shmframe::python
