using System.Net;

namespace Whetstone.Service.Scheduling;

internal static class QueueFull
{
    /// <summary>429: the caller should retry after a short wait; nothing was queued.</summary>
    public static ApiError Error(string model, int capacity) => new(HttpStatusCode.TooManyRequests, "queue_full",
        $"the queue of base model '{model}' holds its maximum of {capacity} calls; retry after the Retry-After delay");
}
