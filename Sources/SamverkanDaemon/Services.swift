import Logging
import SamverkanControl
import SamverkanCore
import SamverkanSinks
import ServiceLifecycle
import Systemd
import UnixSignals

/// Runs the scheduler loop until shutdown.
struct SchedulerService: Service {
    let scheduler: Scheduler

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await scheduler.run()
        }
    }
}

/// Serves the control socket until shutdown.
struct ControlService: Service {
    let server: ControlServer

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await server.run()
            }
        } catch is CancellationError {
            // Shutdown closed the listening socket: the normal way out.
        }
    }
}

/// SIGHUP reloads. The sequence is created (and the handler installed) before READY=1,
/// because SIGHUP's default action would kill the daemon.
struct ReloadService: Service {
    let runtime: Runtime
    let signals: UnixSignalsSequence

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                _ = await runtime.reload(requestedBy: "SIGHUP")
            }
        }
    }
}

/// WATCHDOG=1 every half interval, but only after a round trip through the scheduler loop: a
/// wedged scheduler stops the pings and systemd restarts the daemon.
struct WatchdogService: Service {
    let scheduler: Scheduler
    let notifier: any ServiceNotifier
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await scheduler.roundTrip()
                if Task.isCancelled { return }
                notifier.send(.watchdog)
                try? await EventLoopSleep.sleep(for: interval / 2)
            }
        }
    }
}

/// Registered last, so it starts last and stops first: READY=1 when everything runs, and
/// STOPPING=1 as soon as shutdown begins.
struct ReadinessService: Service {
    let runtime: Runtime
    let notifier: any ServiceNotifier
    let logger: Logger

    func run() async throws {
        // READY once the scheduler has looked at the store: the first ping is answered at the
        // top of its loop, the second after its first look and sleep.
        await runtime.scheduler.roundTrip()
        await runtime.scheduler.roundTrip()
        await runtime.notifyReady()
        let (message, metadata) = await runtime.readyMessage()
        logger.notice("\(message)", metadata: metadata)
        try? await gracefulShutdown()
        notifier.send(.stopping(status: "Shutting down"))
        logger.notice("samverkand stopping", metadata: ["message_id": "\(JournalEvent.stopping.rawValue)"])
    }
}
